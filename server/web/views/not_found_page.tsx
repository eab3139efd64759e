/** The page for a host name nobody registered. */
import { Layout } from "./layout.tsx";

/** Renders "no such host", with a way back. */
export function NotFoundPage(props: { name: string; passwordSet: boolean }) {
  return (
    <Layout
      title="Not found"
      passwordSet={props.passwordSet}
    >
      <main>
        <h1>No host named “{props.name}”</h1>
        <p>
          <a href="/">Back to all hosts</a>
        </p>
      </main>
    </Layout>
  );
}
