/** The login form. */
import { Layout } from "./layout.tsx";

export interface LoginPageProps {
  /** where to go after logging in; a local path */
  next: string;
  error?: string;
}

/** Renders the login page, with an error line after a failed attempt. */
export function LoginPage(props: LoginPageProps) {
  return (
    <Layout title="Log in" passwordSet loggedIn={false}>
      <main class="login">
        <h1>Log in to proxmon</h1>
        <form method="post" action="/login">
          <input type="hidden" name="next" value={props.next} />
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            autofocus
          />
          {props.error && (
            <p id="login-error" class="error" role="alert">{props.error}</p>
          )}
          <button type="submit">Log in</button>
        </form>
      </main>
    </Layout>
  );
}
