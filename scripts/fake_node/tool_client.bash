# Sourced by the fake tools in bin/ as `. tool_client.bash TOOL ARGS…`.
#
# With the simulated node's tool server running (tool_server.ts, port in
# PROXMON_FAKE_TOOL_PORT), the call is this bash process and one `cat`: a few
# ms of CPU, as a real zpool or sensors costs. Without it, the tool runs as
# `deno run fake_tool.ts` (60-100 ms of start-up), which is all a one-off
# call from a test needs.

# Sends the arguments, copies the answer's stderr and stdout, returns its
# exit code.
__fake_tool_call() {
  exec 3<>"/dev/tcp/127.0.0.1/$PROXMON_FAKE_TOOL_PORT" || return 70
  printf '%s\0' "$PROXMON_FAKE_NODE" "$#" "$@" >&3
  local code errlen outlen err
  read -r code errlen outlen <&3 || return 70
  if [ "$errlen" -gt 0 ]; then
    # byte-exact and unbuffered, so the stdout that follows stays unread
    LC_ALL=C IFS= read -r -N "$errlen" err <&3
    printf '%s' "$err" >&2
  fi
  if [ "$outlen" -gt 0 ]; then /bin/cat <&3; fi
  exec 3<&-
  return "$code"
}

if [ -n "$PROXMON_FAKE_TOOL_PORT" ] && [ -n "$PROXMON_FAKE_NODE" ]; then
  if [ -n "$PROXMON_FAKE_CPU_LOG" ]; then
    # One `TOOL<TAB>user s<TAB>system s` line per call (bash's and cat's).
    TIMEFORMAT="$1	%3U	%3S"
    { time __fake_tool_call "$@" 2>&5 5>&-; } 5>&2 2>>"$PROXMON_FAKE_CPU_LOG"
    exit
  fi
  __fake_tool_call "$@"
  exit
fi
__fake_tool_dir=${BASH_SOURCE[0]%/*}
exec deno run --quiet --no-lock --allow-read \
  --allow-env=PROXMON_FAKE_NODE,PROXMON_FAKE_CPU_LOG --allow-write \
  --config "$__fake_tool_dir/fake_tool.config.json" \
  "$__fake_tool_dir/fake_tool.ts" "$@"
