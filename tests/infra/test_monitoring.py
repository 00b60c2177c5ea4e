"""Operating a stage: the Chat-<stage> dashboard, the alarms and their thresholds from cdk.json, who they
notify (prod: an encrypted SNS topic; dev and staging: nobody by default), and the saved Logs Insights queries."""

import json
import re

import aws_cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template
from infra_support import (
    PROJECT_ROOT,
    TASKS,
    WORKFLOWS,
    function_id,
    modules,
    render,
    resources,
    route_handlers,
    stage_settings,
    workflow_id,
)

from cdk.delivery_metrics import DELIVERY_OUTCOMES, FILTER_PATTERNS
from cdk.log_queries import NOT_REACHED_STATES, TASK_FAILURES
from cdk.monitoring import ChatMonitoring
from cdk.stage_config import load_stage_config

FIVE_MINUTES = 300


def alarms(template: dict, stage: str) -> dict[str, dict]:
    """Alarm name without the Chat-<stage>- prefix -> its properties."""
    found = {}
    for properties in resources(template, "AWS::CloudWatch::Alarm").values():
        assert properties["AlarmName"].startswith(f"Chat-{stage}-")
        found[properties["AlarmName"].removeprefix(f"Chat-{stage}-")] = properties
    return found


def metric_stats(alarm: dict) -> list[dict]:
    """The metrics an alarm reads: its own, or those of its metric math."""
    if "MetricName" in alarm:
        return [
            {
                "Namespace": alarm["Namespace"],
                "MetricName": alarm["MetricName"],
                "Dimensions": alarm.get("Dimensions", []),
            }
        ]
    return [query["MetricStat"]["Metric"] for query in alarm["Metrics"] if "MetricStat" in query]


def dimensions(metric: dict) -> dict[str, str]:
    return {dimension["Name"]: render(dimension["Value"]) for dimension in metric.get("Dimensions", [])}


# --- alarms ---------------------------------------------------------------------------------------


def test_every_alarm_the_issue_names_exists_once(template, stage):
    expected = {
        *(
            f"{workflow}-{kind}-Count-Critical"
            for workflow in WORKFLOWS
            for kind in ("Failure", "TimedOut", "Throttled")
        ),
        *(
            f"{function}-{kind}-Critical"
            for function in (*route_handlers(stage), *TASKS)
            for kind in ("Fault-Count", "Throttled-Count", "Latency-Maximum")
        ),
        *(
            f"WebSocketApi-{metric}-Critical"
            for metric in ("IntegrationError", "ClientError", "ConnectCount", "MessageCount")
        ),
        *(
            f"Messages-{metric}-Critical"
            for metric in ("UnsentMessages", "GoneRecipients", "FailedDeliveries", "RejectedInputs", "NothingDelivered")
        ),
    }

    assert set(alarms(template, stage)) == expected


def test_every_alarm_fires_on_one_bad_five_minute_period(template, stage):
    for name, alarm in alarms(template, stage).items():
        assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1), name
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold", name
        periods = (
            [alarm["Period"]]
            if "Period" in alarm
            else [q["MetricStat"]["Period"] for q in alarm["Metrics"] if "MetricStat" in q]
        )
        assert set(periods) == {FIVE_MINUTES}, name


def test_thresholds_come_from_cdk_json(template, stage):
    settings = stage_settings(stage)["monitoring"]
    found = alarms(template, stage)

    for function in route_handlers(stage):
        assert found[f"{function}-Fault-Count-Critical"]["Threshold"] == settings["handler_errors"]
    for function in TASKS:
        assert found[f"{function}-Fault-Count-Critical"]["Threshold"] == settings["task_errors"]
    for function in (*route_handlers(stage), *TASKS):
        assert found[f"{function}-Throttled-Count-Critical"]["Threshold"] == settings["lambda_throttles"]
        module = modules(stage)[function]
        timeout_ms = 1000 * template["Resources"][function_id(template, module)]["Properties"]["Timeout"]
        assert found[f"{function}-Latency-Maximum-Critical"]["Threshold"] == timeout_ms * (
            settings["duration_percent_of_timeout"] / 100
        )
    for workflow in WORKFLOWS:
        for kind in ("Failure", "TimedOut", "Throttled"):
            assert found[f"{workflow}-{kind}-Count-Critical"]["Threshold"] == settings["workflow_failures"]
    assert found["WebSocketApi-IntegrationError-Critical"]["Threshold"] == settings["integration_errors"]
    assert found["WebSocketApi-ClientError-Critical"]["Threshold"] == settings["client_errors"]
    assert found["WebSocketApi-ConnectCount-Critical"]["Threshold"] == settings["connects"]
    assert found["WebSocketApi-MessageCount-Critical"]["Threshold"] == settings["messages"]
    assert found["Messages-UnsentMessages-Critical"]["Threshold"] == settings["unsent_messages"]
    assert found["Messages-GoneRecipients-Critical"]["Threshold"] == settings["gone_recipients"]
    assert found["Messages-FailedDeliveries-Critical"]["Threshold"] == settings["failed_deliveries"]
    assert found["Messages-RejectedInputs-Critical"]["Threshold"] == settings["rejected_inputs"]


def test_function_alarms_watch_their_own_function(template, stage):
    found = alarms(template, stage)
    for function, module in modules(stage).items():
        for kind, metric_name in (
            ("Fault-Count", "Errors"),
            ("Throttled-Count", "Throttles"),
            ("Latency-Maximum", "Duration"),
        ):
            (metric,) = metric_stats(found[f"{function}-{kind}-Critical"])
            assert (metric["Namespace"], metric["MetricName"]) == ("AWS/Lambda", metric_name)
            assert dimensions(metric) == {"FunctionName": f"<{function_id(template, module)}>"}


def test_workflow_alarms_watch_the_express_execution_metrics_of_their_state_machine(template, stage):
    found = alarms(template, stage)
    for workflow in WORKFLOWS:
        for kind, metric_name in (
            ("Failure", "ExecutionsFailed"),
            ("TimedOut", "ExecutionsTimedOut"),
            ("Throttled", "ExecutionThrottled"),
        ):
            (metric,) = metric_stats(found[f"{workflow}-{kind}-Count-Critical"])
            assert (metric["Namespace"], metric["MetricName"]) == ("AWS/States", metric_name)
            assert dimensions(metric) == {"StateMachineArn": f"<{workflow_id(template, workflow)}>"}


def test_websocket_alarms_read_the_raw_api_gateway_metrics_of_this_stage(template, stage):
    (api_id,) = resources(template, "AWS::ApiGatewayV2::Api")
    found = alarms(template, stage)
    for metric_name in ("IntegrationError", "ClientError", "ConnectCount", "MessageCount"):
        (metric,) = metric_stats(found[f"WebSocketApi-{metric_name}-Critical"])
        assert (metric["Namespace"], metric["MetricName"]) == ("AWS/ApiGateway", metric_name)
        assert dimensions(metric) == {"ApiId": f"<{api_id}>", "Stage": stage}


def test_business_alarms_read_metrics_that_are_published(template, stage):
    """sendMessage's metrics as lambdas/chat/observability.py publishes them (tests/unit/test_metrics.py); the
    delivery metrics as the fan-out log's metric filters publish them (see test_delivery_metrics_...)."""
    found = alarms(template, stage)
    read = {
        name: [
            (m["Namespace"], m["MetricName"], dimensions(m)) for m in metric_stats(found[f"Messages-{name}-Critical"])
        ]
        for name in ("UnsentMessages", "GoneRecipients", "FailedDeliveries", "RejectedInputs", "NothingDelivered")
    }
    functions = {"service": "chat", "stage": stage}
    fanout_log = f"ServerlessChat/{stage}"

    assert read["UnsentMessages"] == [("ServerlessChat", "UnsentMessages", functions)]
    assert read["RejectedInputs"] == [("ServerlessChat", "RejectedInputs", functions)]
    assert read["GoneRecipients"] == [(fanout_log, "GoneRecipients", {})]
    assert read["FailedDeliveries"] == [(fanout_log, "FailedDeliveries", {})]
    assert sorted(read["NothingDelivered"]) == [
        ("ServerlessChat", "AcceptedMessages", functions),
        (fanout_log, "Deliveries", {}),
    ]


def published_metrics(template: dict) -> set[tuple[str, str]]:
    """(namespace, name) of every metric a metric filter of this template publishes."""
    return {
        (transformation["MetricNamespace"], transformation["MetricName"])
        for properties in resources(template, "AWS::Logs::MetricFilter").values()
        for transformation in properties["MetricTransformations"]
    }


def test_every_alarm_reads_a_metric_someone_publishes(template, stage):
    """AWS namespaces are published by the services; ours only by the functions' code or a metric filter."""
    emitted_by_functions = {"AcceptedMessages", "RejectedInputs", "UnsentMessages", "Connections", "Disconnections"}
    by_filters = published_metrics(template)
    for name, alarm in alarms(template, stage).items():
        for metric in metric_stats(alarm):
            namespace, metric_name = metric["Namespace"], metric["MetricName"]
            if namespace.startswith("AWS/"):
                continue
            published = (namespace, metric_name) in by_filters or (
                namespace == "ServerlessChat" and metric_name in emitted_by_functions
            )
            assert published, (name, namespace, metric_name)


def test_delivery_metrics_are_counted_from_the_fanout_log_by_the_states_each_outcome_enters(template, stage):
    fanout_log = state_machine_log_group(template, "MessageFanout")
    fanout = json.loads((PROJECT_ROOT / "statemachines" / "message_fanout.asl.json").read_text(encoding="utf-8"))
    map_states = fanout["States"]["DeliverToEachConnection"]["ItemProcessor"]["States"]
    filters = {
        properties["MetricTransformations"][0]["MetricName"]: properties
        for properties in resources(template, "AWS::Logs::MetricFilter").values()
    }

    assert set(filters) == set(FILTER_PATTERNS)
    for name, properties in filters.items():
        (transformation,) = properties["MetricTransformations"]
        assert render(properties["LogGroupName"]) == f"<{fanout_log}>", name
        assert properties["FilterPattern"] == FILTER_PATTERNS[name], name
        assert transformation["MetricNamespace"] == f"ServerlessChat/{stage}", name
        assert (transformation["MetricValue"], transformation["Unit"]) == ("1", "Count"), name
        assert "Dimensions" not in transformation and "DefaultValue" not in transformation, name
    for state in DELIVERY_OUTCOMES.values():
        assert map_states[state]["Type"] == "Pass" and map_states[state]["End"] is True, state


# --- who is told ----------------------------------------------------------------------------------


def test_alarms_notify_an_encrypted_topic_where_the_stage_says_so_and_nobody_elsewhere(template, stage):
    topics = resources(template, "AWS::SNS::Topic")
    found = alarms(template, stage)

    if stage_settings(stage)["monitoring"]["notify"]:
        ((topic_id, topic),) = topics.items()
        key_id = render(topic["KmsMasterKeyId"]).strip("<>").removesuffix(".Arn")
        assert template["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
        for name, alarm in found.items():
            assert alarm["ActionsEnabled"] is True, name
            assert [render(action) for action in alarm["AlarmActions"]] == [f"<{topic_id}>"], name
    else:
        assert topics == {}
        for name, alarm in found.items():
            assert not alarm.get("AlarmActions"), name
            assert alarm["ActionsEnabled"] is False, name
    assert resources(template, "AWS::SNS::Subscription") == {}  # no e-mail subscribers by default


def test_cloudwatch_may_use_the_alarm_topic_key_and_the_topic_refuses_plain_http(templates):
    template = templates("prod")
    (key,) = resources(template, "AWS::KMS::Key").values()
    statements = key["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Principal"].get("Service") == "cloudwatch.amazonaws.com"]

    assert cloudwatch and set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    (policy,) = resources(template, "AWS::SNS::TopicPolicy").values()
    (deny,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_this_stages_alarms_and_nothing_else_may_publish_to_the_alarm_topic(templates):
    """enforce_ssl gives the topic a policy of its own, which replaces SNS's default policy: without an Allow for
    CloudWatch no alarm could publish (DataBiosphere/azul#5651, aws-solutions/automated-security-response-on-aws#43).
    The Allow is scoped to this account and to this stage's own alarms (the confused-deputy conditions of the
    SNS developer guide, "Amazon SNS access control case examples")."""
    template = templates("prod")
    (topic_id,) = resources(template, "AWS::SNS::Topic")
    (policy,) = resources(template, "AWS::SNS::TopicPolicy").values()
    (allow,) = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    alarm_arns = {f"<{alarm_id}.Arn>" for alarm_id in resources(template, "AWS::CloudWatch::Alarm")}

    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Action"] == "sns:Publish"
    assert render(allow["Resource"]) == f"<{topic_id}>"
    assert render(allow["Condition"]["StringEquals"]) == {"aws:SourceAccount": "<AWS::AccountId>"}
    assert set(render(allow["Condition"]["ArnEquals"]["aws:SourceArn"])) == alarm_arns
    assert len(alarm_arns) == len(alarms(template, "prod"))


def monitored_stack(monitoring: dict) -> dict:
    """ChatMonitoring alone in a small stack (one function, one workflow), with these monitoring settings."""
    stages = {"dev": {**stage_settings("dev"), "monitoring": {**stage_settings("dev")["monitoring"], **monitoring}}}
    config = load_stage_config(stages, "dev")
    app = aws_cdk.App()
    stack = aws_cdk.Stack(app, "Monitored")
    function = lambda_.Function(
        stack,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    workflow = sfn.StateMachine(
        stack, "Workflow", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "Pass"))
    )
    ChatMonitoring(
        stack,
        "Monitoring",
        config=config,
        api_id="abcd123456",
        stage_name="dev",
        route_handlers=[function],
        task_functions=[],
        workflows={"Workflow": workflow},
        fanout_log_group=logs.LogGroup(stack, "WorkflowLogs"),
    )
    return Template.from_stack(stack).to_json()


def test_alarm_emails_subscribe_to_the_topic():
    template = monitored_stack({"notify": True, "alarm_emails": ["ops@example.com", "oncall@example.com"]})

    (topic_id,) = resources(template, "AWS::SNS::Topic")
    subscriptions = resources(template, "AWS::SNS::Subscription").values()
    assert sorted((s["Protocol"], s["Endpoint"], render(s["TopicArn"])) for s in subscriptions) == [
        ("email", "oncall@example.com", f"<{topic_id}>"),
        ("email", "ops@example.com", f"<{topic_id}>"),
    ]


def test_notify_can_be_turned_on_for_dev():
    template = monitored_stack({"notify": True})

    (topic_id,) = resources(template, "AWS::SNS::Topic")
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        assert [render(action) for action in alarm["AlarmActions"]] == [f"<{topic_id}>"]


# --- dashboard ------------------------------------------------------------------------------------


def dashboard_widgets(template: dict) -> list[dict]:
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["DashboardBody"]
    text = "".join(part if isinstance(part, str) else "0" for part in body["Fn::Join"][1])
    return json.loads(text)["widgets"]


def test_one_dashboard_named_after_the_stack(template, stage):
    (dashboard,) = resources(template, "AWS::CloudWatch::Dashboard").values()

    assert dashboard["DashboardName"] == f"Chat-{stage}"


def test_the_dashboard_shows_every_part_of_the_chat(template, stage):
    widgets = dashboard_widgets(template)
    headers = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    graphs = {w["properties"]["title"] for w in widgets if w["type"] == "metric"}
    charted = {
        metric[1]
        for w in widgets
        if w["type"] == "metric"
        for metric in w["properties"].get("metrics", [])
        if len(metric) > 1 and isinstance(metric[1], str)
    }

    assert headers[0] == f"# Serverless chat ({stage})"
    sections = " ".join(headers)
    for part in ("Messages", "WebSocket API", *WORKFLOWS, *route_handlers(stage), *TASKS):
        assert part in sections, part
    assert {"Messages", "Not delivered or refused", "Connections", "Traffic", "Errors", "Integration latency"} <= graphs
    assert {
        "AcceptedMessages",
        "Deliveries",
        "UnsentMessages",
        "GoneRecipients",
        "FailedDeliveries",
        "ThrottledPosts",
        "RejectedInputs",
        "ConnectCount",
        "MessageCount",
        "IntegrationError",
        "ClientError",
        "ExecutionError",
        "IntegrationLatency",
    } <= charted
    assert "IteratorAge" not in charted  # no function reads an event stream


# --- saved queries --------------------------------------------------------------------------------


def query_definitions(template: dict, stage: str) -> dict[str, dict]:
    return {
        properties["Name"].removeprefix(f"Chat-{stage}/"): properties
        for properties in resources(template, "AWS::Logs::QueryDefinition").values()
    }


def log_group_ids(query: dict) -> set[str]:
    return {render(arn).strip("<>").removesuffix(".Arn") for arn in query["LogGroupNames"]}


def function_log_group(template: dict, module: str) -> str:
    function = template["Resources"][function_id(template, module)]["Properties"]
    return render(function["LoggingConfig"]["LogGroup"]).strip("<>")


def state_machine_log_group(template: dict, workflow: str) -> str:
    machine = template["Resources"][workflow_id(template, workflow)]["Properties"]
    (destination,) = machine["LoggingConfiguration"]["Destinations"]
    return render(destination["CloudWatchLogsLogGroup"]["LogGroupArn"]).strip("<>").removesuffix(".Arn")


def test_three_saved_queries_per_stage(template, stage):
    assert set(query_definitions(template, stage)) == {
        "One message by id",
        "One connection by id",
        "Failed deliveries (run over the last hour)",
    }


def test_the_message_query_reads_every_log_group_that_tells_a_message_story(template, stage):
    query = query_definitions(template, stage)["One message by id"]

    assert log_group_ids(query) == {
        function_log_group(template, "send_message"),
        state_machine_log_group(template, "MessageFanout"),
    }
    assert 'correlation_id = "MESSAGE_ID"' in query["QueryString"]
    assert 'execution_arn like ":MESSAGE_ID:"' in query["QueryString"]


def test_the_connection_query_reads_every_function_workflow_and_access_log(template, stage):
    query = query_definitions(template, stage)["One connection by id"]
    (api_stage,) = resources(template, "AWS::ApiGatewayV2::Stage").values()
    access_logs = render(api_stage["AccessLogSettings"]["DestinationArn"]).strip("<>").removesuffix(".Arn")

    assert log_group_ids(query) == {
        *(function_log_group(template, module) for module in modules(stage).values()),
        *(state_machine_log_group(template, workflow) for workflow in WORKFLOWS),
        access_logs,
    }
    assert '@message like "CONNECTION_ID"' in query["QueryString"]


def test_the_failed_deliveries_query_names_states_the_fanout_really_has(template, stage):
    query = query_definitions(template, stage)["Failed deliveries (run over the last hour)"]
    fanout = json.loads((PROJECT_ROOT / "statemachines" / "message_fanout.asl.json").read_text(encoding="utf-8"))
    states = set(re.findall(r'"(\w+)"', json.dumps(fanout["States"])))

    assert log_group_ids(query) == {state_machine_log_group(template, "MessageFanout")}
    assert query["QueryString"].index("parse execution_arn") < query["QueryString"].index(
        "display @timestamp, message_id"
    )
    assert set(NOT_REACHED_STATES) <= states
    for state in NOT_REACHED_STATES:
        assert f'"{state}"' in query["QueryString"]
    for event_type in TASK_FAILURES:
        assert f'"{event_type}"' in query["QueryString"]
    assert "details.error" in query["QueryString"]
