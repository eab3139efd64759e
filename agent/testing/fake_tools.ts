/**
 * Test helper: turns a table of command lines and answers into executables
 * in a directory, so the agent can run as a real process with that
 * directory as its PATH. Each program answers only its exact command lines
 * and fails loudly on anything else.
 */
import type { FakeAnswer } from "./fake_runner.ts";

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

interface Reply {
  stdout: string;
  stderr: string;
  code: number;
}

function replyOf(answer: FakeAnswer): Reply | undefined {
  if (typeof answer === "string") {
    return { stdout: answer, stderr: "", code: 0 };
  }
  if (!("error" in answer)) {
    return { stdout: answer.stdout, stderr: answer.stderr ?? "", code: 0 };
  }
  const { error } = answer;
  // A missing binary or a hang has no output to replay; leave it out.
  if (error.kind !== "nonzero_exit") return undefined;
  return { stdout: error.stdout, stderr: error.stderr, code: error.code };
}

/**
 * Writes one shell script per program in `answers` into `binDir` (which
 * must exist), with the outputs stored beside them in `binDir/.answers`.
 */
export async function installFakeTools(
  binDir: string,
  answers: Record<string, FakeAnswer>,
): Promise<void> {
  const data = `${binDir}/.answers`;
  await Deno.mkdir(data);
  const branches = new Map<string, string[]>();
  let n = 0;
  for (const [line, answer] of Object.entries(answers)) {
    const reply = replyOf(answer);
    if (!reply) continue;
    const [program, ...args] = line.split(" ");
    await Deno.writeTextFile(`${data}/${n}.out`, reply.stdout);
    await Deno.writeTextFile(`${data}/${n}.err`, reply.stderr);
    const cases = branches.get(program) ?? [];
    cases.push(`  ${shellQuote(args.join(" "))}) answer ${n} ${reply.code} ;;`);
    branches.set(program, cases);
    n++;
  }
  for (const [program, cases] of branches) {
    const script = [
      "#!/bin/sh",
      `# fake ${program}: replays fixture outputs for exact command lines`,
      `answer() { /bin/cat ${shellQuote(data)}/"$1".out; ` +
      `/bin/cat ${shellQuote(data)}/"$1".err >&2; exit "$2"; }`,
      `case "$*" in`,
      ...cases,
      `  *) echo "fake ${program}: no answer for: ${program} $*" >&2; exit 2 ;;`,
      "esac",
      "",
    ].join("\n");
    await Deno.writeTextFile(`${binDir}/${program}`, script, { mode: 0o755 });
  }
}
