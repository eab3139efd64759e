/** What one run of a fake tool prints and how it exits. */
export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Success with this stdout (and optional stderr noise). */
export function ok(stdout: string, stderr = ""): ToolResult {
  return { stdout, stderr, code: 0 };
}

/** Failure with this stderr and exit code. */
export function fail(stderr: string, code: number): ToolResult {
  return { stdout: "", stderr, code };
}
