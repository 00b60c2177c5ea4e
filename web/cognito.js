// The stage's Cognito user pool, through Cognito's own JSON API over fetch (no SDK, no build step): sign in with
// a username and password (InitiateAuth, USER_PASSWORD_AUTH), renew the tokens (REFRESH_TOKEN_AUTH), sign up and
// confirm (only where the stage allows self sign-up), and revoke a refresh token on sign-out. The endpoint is
// config.json's `auth.cognito_endpoint`: Cognito's regional endpoint, or the local runtime's proxy of it on the
// page's own origin. Pure apart from the fetch, which is passed in: unit-tested with `node --test` (tests/web).

const TARGET_PREFIX = "AWSCognitoIdentityProviderService.";

// Cognito's error names (the JSON API's `__type`) in plain words; the rest are shown with Cognito's own message.
const PLAIN_WORDS = {
  NotAuthorizedException: "Wrong username or password.",
  UserNotFoundException: "Wrong username or password.",
  UserNotConfirmedException:
    "This account is not confirmed yet: enter the confirmation code, or ask an administrator to confirm it.",
  PasswordResetRequiredException: "This account's password must be reset by an administrator before you can sign in.",
  UsernameExistsException: "That username is taken; choose another.",
  InvalidPasswordException: null, // Cognito's message says which rule the password breaks
  CodeMismatchException: "That confirmation code is not right; check it and try again.",
  ExpiredCodeException: "That confirmation code has expired.",
  TooManyRequestsException: "Too many attempts; wait a moment and try again.",
  LimitExceededException: "Too many attempts; wait a while and try again.",
  TooManyFailedAttemptsException: "Too many failed attempts; wait a while and try again.",
};

/** A refusal or failure of Cognito's API: `code` is Cognito's error name (or "NetworkError"), `message` a sentence. */
export class CognitoError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "CognitoError";
    this.code = code;
  }
}

/** The sentence the page shows for a Cognito error answer. */
export function describeCognitoError(code, message) {
  const plain = PLAIN_WORDS[code];
  if (plain) return plain;
  const detail = typeof message === "string" && message.trim() ? message.trim() : "no details given";
  if (code === "InvalidPasswordException") return `That password is not accepted: ${detail.replace(/^Password does not conform to policy: /, "")}`;
  return `Sign-in failed (${code}): ${detail}`;
}

/** The tokens of an AuthenticationResult: {idToken, accessToken, refreshToken (null on a refresh), expiresIn}. */
function tokensOf(result) {
  if (!result || typeof result.IdToken !== "string") throw new CognitoError("InvalidResponse", "Cognito's answer has no ID token.");
  return {
    idToken: result.IdToken,
    accessToken: result.AccessToken ?? null,
    refreshToken: result.RefreshToken ?? null,
    expiresIn: Number(result.ExpiresIn) || null,
  };
}

export class CognitoClient {
  /** `endpoint`: config.json's cognito_endpoint; `clientId`: the pool's app client (a public client: no secret). */
  // The default calls fetch as a function: a browser refuses window.fetch called as another object's method.
  constructor({ endpoint, clientId, fetchImpl = (...args) => globalThis.fetch(...args) }) {
    if (!endpoint || !clientId) throw new Error("Cognito needs config.json's cognito_endpoint and client_id");
    Object.assign(this, { endpoint, clientId, fetchImpl });
  }

  /** {idToken, accessToken, refreshToken, expiresIn}; throws CognitoError (wrong password, a challenge this page
   * cannot answer, …). */
  async signIn(username, password) {
    const answer = await this.#call("InitiateAuth", {
      AuthFlow: "USER_PASSWORD_AUTH",
      ClientId: this.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    if (answer.ChallengeName === "NEW_PASSWORD_REQUIRED") {
      throw new CognitoError(
        "NEW_PASSWORD_REQUIRED",
        "This account still has its temporary password: choose a new one with `make token` (or ask an administrator to set one), then sign in.",
      );
    }
    if (answer.ChallengeName) {
      throw new CognitoError(answer.ChallengeName, `Cognito asks for a step this page does not support (${answer.ChallengeName}).`);
    }
    return tokensOf(answer.AuthenticationResult);
  }

  /** Fresh ID and access tokens from a refresh token (Cognito returns no new refresh token: keep the old one). */
  async refresh(refreshToken) {
    const answer = await this.#call("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      ClientId: this.clientId,
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
    return tokensOf(answer.AuthenticationResult);
  }

  /** {confirmed, codeSentTo}: confirmed users sign in at once; otherwise a code was sent (codeSentTo says where),
   * or, with nowhere to send one, an administrator confirms the account (codeSentTo null). */
  async signUp(username, password) {
    const answer = await this.#call("SignUp", { ClientId: this.clientId, Username: username, Password: password });
    const delivery = answer.CodeDeliveryDetails;
    return { confirmed: Boolean(answer.UserConfirmed), codeSentTo: delivery ? delivery.Destination || delivery.DeliveryMedium : null };
  }

  async confirmSignUp(username, code) {
    await this.#call("ConfirmSignUp", { ClientId: this.clientId, Username: username, ConfirmationCode: code });
  }

  /** Ends the refresh token's life (the app client has token revocation on); ID tokens already given stay valid
   * until they expire. */
  async revoke(refreshToken) {
    await this.#call("RevokeToken", { ClientId: this.clientId, Token: refreshToken });
  }

  async #call(operation, body) {
    let response;
    try {
      response = await this.fetchImpl(this.endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `${TARGET_PREFIX}${operation}` },
        body: JSON.stringify(body),
        cache: "no-store",
      });
    } catch (failure) {
      throw new CognitoError("NetworkError", `Could not reach the sign-in service (${failure.message}).`);
    }
    const answer = await response.json().catch(() => ({}));
    if (response.ok) return answer ?? {};
    // `__type` is the error's name, sometimes prefixed with its namespace ("…#NotAuthorizedException").
    const code = String(answer?.__type ?? `HTTP ${response.status}`).split("#").at(-1);
    throw new CognitoError(code, describeCognitoError(code, answer?.message ?? answer?.Message));
  }
}
