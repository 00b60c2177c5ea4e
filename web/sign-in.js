// The sign-in panel of a stage with sign-in (config.json's auth.type "cognito"): the form (username, password),
// creating an account where the stage allows self sign-up (auth.self_sign_up), the confirmation code when Cognito
// sent one, and signing out. What a session is lives in session.js, Cognito's API in cognito.js.

import { CognitoClient } from "./cognito.js";
import { AuthSession } from "./session.js";

const ELEMENT_IDS = {
  panel: "sign-in-panel",
  form: "sign-in-form",
  username: "username-input",
  password: "password-input",
  signIn: "sign-in-button",
  signUp: "sign-up-button",
  confirmRow: "confirm-row",
  code: "code-input",
  confirm: "confirm-button",
  feedback: "sign-in-feedback",
  user: "signed-in-user",
  userName: "signed-in-name",
  signOut: "sign-out-button",
};

export class SignInPanel {
  /** `auth`: config.json's auth; `onSignedIn(user)`, `onSignedOut(why)`: the page connects or disconnects. */
  constructor({ auth, onSignedIn, onSignedOut, storage = globalThis.sessionStorage }) {
    this.ui = Object.fromEntries(Object.entries(ELEMENT_IDS).map(([name, id]) => [name, document.getElementById(id)]));
    this.selfSignUp = auth.self_sign_up === true;
    this.cognito = new CognitoClient({ endpoint: new URL(auth.cognito_endpoint, window.location.href).href, clientId: auth.client_id });
    this.session = new AuthSession({
      cognito: this.cognito,
      storage,
      onChange: (user, why) => {
        if (!user) this.#signedOut(why);
      },
    });
    Object.assign(this, { onSignedIn, onSignedOut });
  }

  /** The ID token to connect with now (renewed first when it has expired), or null. */
  currentToken() {
    return this.session.currentToken();
  }

  /** The token as it is at this moment, for the address the connection opens. */
  get idToken() {
    return this.session.idToken;
  }

  get user() {
    return this.session.user;
  }

  /** Shows the panel; signs in again from this tab's kept tokens (a reload). Resolves to the user or null. */
  async start() {
    this.#wire();
    this.ui.signUp.hidden = !this.selfSignUp;
    const user = await this.session.resume();
    if (user) this.#signedIn(user);
    else this.#showForm("");
    return user;
  }

  async #signIn() {
    const { username, password } = this.#credentials("sign in");
    if (!username) return;
    await this.#busy(async () => this.#signedIn(await this.session.signIn(username, password)));
  }

  async #signUp() {
    const { username, password } = this.#credentials("create an account");
    if (!username) return;
    await this.#busy(async () => {
      const { confirmed, codeSentTo } = await this.cognito.signUp(username, password);
      if (confirmed) {
        this.#signedIn(await this.session.signIn(username, password));
      } else if (codeSentTo) {
        this.ui.confirmRow.hidden = false;
        this.#say(`Account created. Enter the confirmation code sent to ${codeSentTo}.`);
        this.ui.code.focus();
      } else {
        this.#say("Account created. An administrator must confirm it before you can sign in.");
      }
    });
  }

  async #confirm() {
    const { username, password } = this.#credentials("confirm the account");
    const code = this.ui.code.value.trim();
    if (!username || !code) return;
    await this.#busy(async () => {
      await this.cognito.confirmSignUp(username, code);
      this.ui.confirmRow.hidden = true;
      this.#signedIn(await this.session.signIn(username, password));
    });
  }

  /** {username, password} from the form, or {} after saying what is missing. */
  #credentials(action) {
    const username = this.ui.username.value.trim();
    const password = this.ui.password.value;
    const missing = !username ? this.ui.username : !password ? this.ui.password : null;
    if (missing) {
      this.#say(`Type your ${missing === this.ui.username ? "username" : "password"} to ${action}.`, missing);
      return {};
    }
    return { username, password };
  }

  async #busy(work) {
    const buttons = [this.ui.signIn, this.ui.signUp, this.ui.confirm];
    for (const button of buttons) button.disabled = true;
    this.#say("");
    try {
      await work();
    } catch (failure) {
      this.#say(failure.message, failure.code === "NotAuthorizedException" ? this.ui.password : null);
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }

  #say(text, field = null) {
    this.ui.feedback.textContent = text;
    for (const input of [this.ui.username, this.ui.password]) {
      if (input === field) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    if (field) field.focus();
  }

  #signedIn(user) {
    this.ui.password.value = ""; // the password is never kept, not even in the form
    this.ui.panel.hidden = true;
    this.ui.user.hidden = false;
    this.ui.userName.textContent = user.name;
    this.onSignedIn(user);
  }

  #signedOut(why) {
    this.#showForm(why === "signed out" ? "You have signed out." : why);
    this.onSignedOut(why);
  }

  #showForm(text) {
    this.ui.user.hidden = true;
    this.ui.panel.hidden = false;
    this.#say(text);
    this.ui.username.focus();
  }

  #wire() {
    const { ui } = this;
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#signIn();
    });
    ui.signUp.addEventListener("click", () => this.#signUp());
    ui.confirm.addEventListener("click", () => this.#confirm());
    ui.signOut.addEventListener("click", () => this.session.signOut());
    for (const input of [ui.username, ui.password]) input.addEventListener("input", () => input.removeAttribute("aria-invalid"));
  }
}
