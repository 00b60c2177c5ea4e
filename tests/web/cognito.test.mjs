// node --test: the Cognito user pools JSON API as the page calls it (web/cognito.js), against a fake fetch.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CognitoClient, CognitoError, describeCognitoError } from "../../web/cognito.js";

const ENDPOINT = "http://127.0.0.1:3001/cognito/";

/** A fetch that answers each call with the next of `answers` ([status, body] or an Error) and records the calls. */
function fakeFetch(...answers) {
  const calls = [];
  const fetchImpl = async (url, options) => {
    calls.push({ url, target: options.headers["X-Amz-Target"], type: options.headers["Content-Type"], body: JSON.parse(options.body) });
    const answer = answers.shift();
    if (answer instanceof Error) throw answer;
    const [status, body] = answer;
    return { ok: status === 200, status, json: async () => body };
  };
  return { calls, client: new CognitoClient({ endpoint: ENDPOINT, clientId: "client-1", fetchImpl }) };
}

const RESULT = { IdToken: "id.t.s", AccessToken: "a.t.s", RefreshToken: "refresh", ExpiresIn: 3600, TokenType: "Bearer" };

test("signing in is InitiateAuth with USER_PASSWORD_AUTH on the app client, in Cognito's JSON protocol", async () => {
  const { calls, client } = fakeFetch([200, { AuthenticationResult: RESULT }]);

  assert.deepEqual(await client.signIn("alice", "correct horse 1"), {
    idToken: "id.t.s",
    accessToken: "a.t.s",
    refreshToken: "refresh",
    expiresIn: 3600,
  });
  assert.deepEqual(calls, [
    {
      url: ENDPOINT,
      target: "AWSCognitoIdentityProviderService.InitiateAuth",
      type: "application/x-amz-json-1.1",
      body: { AuthFlow: "USER_PASSWORD_AUTH", ClientId: "client-1", AuthParameters: { USERNAME: "alice", PASSWORD: "correct horse 1" } },
    },
  ]);
});

test("a wrong password is a clear sentence, whatever namespace Cognito prefixes the error with", async () => {
  for (const type of ["NotAuthorizedException", "com.amazonaws.cognito#NotAuthorizedException"]) {
    const { client } = fakeFetch([400, { __type: type, message: "Incorrect username or password." }]);
    await assert.rejects(client.signIn("alice", "nope"), (error) => {
      assert.ok(error instanceof CognitoError);
      assert.equal(error.code, "NotAuthorizedException");
      assert.equal(error.message, "Wrong username or password.");
      return true;
    });
  }
});

test("a challenge the page cannot answer is refused, saying what to do", async () => {
  const { client } = fakeFetch([200, { ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "s" }], [200, { ChallengeName: "SMS_MFA" }]);
  await assert.rejects(client.signIn("bob", "Temporary1"), { code: "NEW_PASSWORD_REQUIRED", message: /temporary password/ });
  await assert.rejects(client.signIn("bob", "Temporary1"), { code: "SMS_MFA", message: /does not support/ });
});

test("an unreachable endpoint and an answer without tokens are errors, not crashes", async () => {
  const { client } = fakeFetch(new TypeError("Failed to fetch"), [200, {}], [502, "<html>"]);
  await assert.rejects(client.signIn("a", "b"), { code: "NetworkError", message: /Could not reach the sign-in service \(Failed to fetch\)/ });
  await assert.rejects(client.signIn("a", "b"), { code: "InvalidResponse" });
  await assert.rejects(client.signIn("a", "b"), { code: "HTTP 502" });
});

test("renewing is REFRESH_TOKEN_AUTH; Cognito sends no new refresh token", async () => {
  const { calls, client } = fakeFetch([200, { AuthenticationResult: { IdToken: "id2", AccessToken: "a2", ExpiresIn: 3600 } }]);
  assert.deepEqual(await client.refresh("refresh"), { idToken: "id2", accessToken: "a2", refreshToken: null, expiresIn: 3600 });
  assert.deepEqual(calls[0].body, { AuthFlow: "REFRESH_TOKEN_AUTH", ClientId: "client-1", AuthParameters: { REFRESH_TOKEN: "refresh" } });
});

test("signing up says whether the account is ready, awaits a code, or awaits an administrator", async () => {
  const { calls, client } = fakeFetch(
    [200, { UserConfirmed: true, UserSub: "s" }],
    [200, { UserConfirmed: false, CodeDeliveryDetails: { Destination: "a***@e***", DeliveryMedium: "EMAIL" } }],
    [200, { UserConfirmed: false, UserSub: "s" }],
    [200, {}],
  );
  assert.deepEqual(await client.signUp("carol", "long password 1"), { confirmed: true, codeSentTo: null });
  assert.deepEqual(await client.signUp("carol", "long password 1"), { confirmed: false, codeSentTo: "a***@e***" });
  assert.deepEqual(await client.signUp("carol", "long password 1"), { confirmed: false, codeSentTo: null });
  await client.confirmSignUp("carol", "123456");
  assert.equal(calls[0].target, "AWSCognitoIdentityProviderService.SignUp");
  assert.deepEqual(calls[0].body, { ClientId: "client-1", Username: "carol", Password: "long password 1" });
  assert.equal(calls[3].target, "AWSCognitoIdentityProviderService.ConfirmSignUp");
  assert.deepEqual(calls[3].body, { ClientId: "client-1", Username: "carol", ConfirmationCode: "123456" });
});

test("sign-out revokes the refresh token", async () => {
  const { calls, client } = fakeFetch([200, {}]);
  await client.revoke("refresh");
  assert.equal(calls[0].target, "AWSCognitoIdentityProviderService.RevokeToken");
  assert.deepEqual(calls[0].body, { ClientId: "client-1", Token: "refresh" });
});

test("Cognito's refusals in plain words; the password policy's own words are kept", () => {
  assert.equal(describeCognitoError("UsernameExistsException", "User already exists"), "That username is taken; choose another.");
  assert.equal(
    describeCognitoError("InvalidPasswordException", "Password does not conform to policy: Password not long enough"),
    "That password is not accepted: Password not long enough",
  );
  assert.equal(describeCognitoError("InternalErrorException", ""), "Sign-in failed (InternalErrorException): no details given");
});

test("a client needs its endpoint and app client id", () => {
  assert.throws(() => new CognitoClient({ endpoint: "", clientId: "c" }), /cognito_endpoint/);
});
