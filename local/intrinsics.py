"""Resolution of CloudFormation intrinsic functions to the values the local runtime gives resources."""

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

from local.template_errors import UnsupportedTemplate

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


RefResolver = Callable[[str], Any]
AttResolver = Callable[[str, str], Any]


class IntrinsicResolver:
    """Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::If and Fn::Base64.

    ``ref`` and ``get_att`` give the local value of a logical id (or pseudo parameter) and of a
    resource attribute; ``conditions`` maps condition names to booleans.
    """

    def __init__(self, *, ref: RefResolver, get_att: AttResolver, conditions: Mapping[str, Any] | None = None):
        self._ref = ref
        self._get_att = get_att
        self._conditions = dict(conditions or {})

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            return [self.resolve(item, where) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Condition":
                return self.condition(argument, where)
            if key.startswith("Fn::"):
                return self._function(key, argument, where)
        return {key: self.resolve(item, where) for key, item in value.items()}

    def _function(self, name: str, argument: Any, where: str) -> Any:
        if name == "Fn::GetAtt":
            logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
            return self._get_att(logical_id, self.resolve(attribute, where))
        if name == "Fn::Join":
            delimiter, items = argument
            return delimiter.join(str(item) for item in self.resolve(items, where))
        if name == "Fn::Sub":
            return self._sub(argument, where)
        if name == "Fn::Select":
            index, items = self.resolve(argument, where)
            return items[int(index)]
        if name == "Fn::Split":
            delimiter, text = self.resolve(argument, where)
            return text.split(delimiter)
        if name == "Fn::If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition, where) else when_false, where)
        if name == "Fn::Base64":
            return base64.b64encode(str(self.resolve(argument, where)).encode()).decode()
        raise UnsupportedTemplate(f"{where}: intrinsic function {name} is not supported by the local runtime")

    def condition(self, name: str, where: str) -> bool:
        if name not in self._conditions:
            raise UnsupportedTemplate(f"{where}: condition {name!r} is not defined in the template")
        return self._evaluate(self._conditions[name], f"{where} (condition {name})")

    def _evaluate(self, expression: Any, where: str) -> bool:
        ((name, argument),) = expression.items()
        if name == "Fn::Equals":
            left, right = self.resolve(argument, where)
            return left == right
        if name == "Fn::Not":
            return not self._evaluate(argument[0], where)
        if name == "Fn::And":
            return all(self._evaluate(item, where) for item in argument)
        if name == "Fn::Or":
            return any(self._evaluate(item, where) for item in argument)
        if name == "Condition":
            return self.condition(argument, where)
        raise UnsupportedTemplate(f"{where}: condition function {name} is not supported by the local runtime")

    def _sub(self, argument: Any, where: str) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1], where)
        else:
            text, variables = argument, {}

        def substitute(match: re.Match) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return str(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical_id, attribute = expression.split(".", 1)
                return str(self._get_att(logical_id, attribute))
            return str(self._ref(expression))

        return _SUB_VARIABLE.sub(substitute, text)


def substitute_definition(definition: str, substitutions: Mapping[str, Any], where: str) -> str:
    """Apply DefinitionSubstitutions the way Step Functions' CloudFormation resource does."""

    def substitute(match: re.Match) -> str:
        key = match.group(1)
        if key not in substitutions:
            raise UnsupportedTemplate(f"{where}: definition placeholder ${{{key}}} has no substitution")
        return str(substitutions[key])

    return _SUB_VARIABLE.sub(substitute, definition)
