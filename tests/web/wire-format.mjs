// The wire format as docs/asyncapi.yaml describes it, for node --test (tests/protocol.py does the same
// for the Python tests): frames are checked with ajv against the document's message payloads.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import Ajv from "ajv";
import addFormats from "ajv-formats";
import YAML from "yaml";

const PROJECT_ROOT = new URL("../../", import.meta.url);
const DOCUMENT_ID = "urn:serverless-chat:asyncapi";

export const document = YAML.parse(readFileSync(new URL("docs/asyncapi.yaml", PROJECT_ROOT), "utf8"));

function newAjv() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // The document's own keyword: a string's length in UTF-8 bytes (JSON Schema counts characters).
  ajv.addKeyword({
    keyword: "x-max-utf8-bytes",
    type: "string",
    schemaType: "number",
    validate: (limit, text) => new TextEncoder().encode(text).length <= limit,
  });
  return ajv;
}

const ajv = newAjv();
ajv.addSchema(document, DOCUMENT_ID, undefined, false);

/** components/schemas/<name>, e.g. for the limits it states. */
export function schema(name) {
  return document.components.schemas[name];
}

function resolve(reference) {
  return reference
    .replace(/^#\//, "")
    .split("/")
    .reduce((node, part) => node[part], document);
}

/** The components/messages names the chat receives ("receive": client to server) or sends ("send",
 * replies included), as its operations list them. */
export function messageNames(action) {
  const names = new Set();
  for (const operation of Object.values(document.operations)) {
    const references = operation.action === action ? [...operation.messages] : [];
    if (action === "send" && operation.reply) references.push(...operation.reply.messages);
    for (const { $ref } of references) names.add(resolve($ref).$ref.split("/").at(-1));
  }
  return [...names];
}

/** Why `frame` is not a valid <name> message (empty when it is). */
export function problems(name, frame) {
  const validate = ajv.getSchema(`${DOCUMENT_ID}#/components/messages/${name}/payload`);
  return validate(frame) ? [] : validate.errors.map((e) => `${e.instancePath || "(frame)"} ${e.message}`);
}

export function matchingMessages(frame, action) {
  return messageNames(action).filter((name) => problems(name, frame).length === 0);
}

function check(frame, action, direction) {
  const matches = matchingMessages(frame, action);
  const details = messageNames(action).map((name) => `as ${name}: ${problems(name, frame).join(", ") || "valid"}`);
  assert.equal(
    matches.length,
    1,
    `${direction} frame ${JSON.stringify(frame).slice(0, 300)} is not exactly one message of docs/asyncapi.yaml: ${details.join("; ")}`,
  );
  return matches[0];
}

/** The name of the document's client-to-server message `frame` is; fails the test unless it is one. */
export function assertClientFrame(frame) {
  return check(frame, "receive", "client -> server");
}

/** The name of the document's server-to-client message `frame` is; fails the test unless it is one. */
export function assertServerFrame(frame) {
  return check(frame, "send", "server -> client");
}

/** Every documented example: [message name, example name, payload]. */
export function examples() {
  return Object.entries(document.components.messages).flatMap(([name, message]) =>
    message.examples.map((example) => [name, example.name, example.payload]),
  );
}

/** The AsyncAPI 3.0.0 specification's own JSON Schema (@asyncapi/specs) checks a document. */
export function asyncApiProblems(candidate) {
  const spec = JSON.parse(readFileSync(new URL("node_modules/@asyncapi/specs/schemas/3.0.0.json", PROJECT_ROOT), "utf8"));
  // Ajv already has draft-07's meta-schema under this id; the bundled copy would be a second one.
  delete spec.definitions["http://json-schema.org/draft-07/schema"];
  const validate = newAjv().compile(spec);
  return validate(candidate) ? [] : validate.errors.map((e) => `${e.instancePath} ${e.message}`);
}
