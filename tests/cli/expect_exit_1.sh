# expect_exit_1.sh MESSAGE COMMAND...: passes when COMMAND exits 1 and prints exactly one stderr
# line containing MESSAGE.
message=$1
shift
err=$("$@" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -ne 1 ]; then
  echo "expected exit 1, got $rc: $err"
  exit 1
fi
if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then
  echo "expected one line on stderr, got: $err"
  exit 1
fi
case "$err" in
  *"$message"*) exit 0 ;;
  *) echo "expected \`$message\` in: $err"; exit 1 ;;
esac
