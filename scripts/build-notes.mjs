// The AssemblyScript compiler's notes, left out of a quiet build: an INFO
// diagnostic (its first line and the indented lines under it) and binaryen's
// "Last converge was suboptimal." Warnings and errors are kept.
export function withoutNotes(text) {
  const kept = [];
  let inNote = false;
  for (const line of text.split("\n")) {
    if (/^INFO AS\d+:/.test(line) || line === "Last converge was suboptimal.") inNote = true;
    else if (inNote && (line === "" || /^\s/.test(line))) continue;
    else inNote = false;
    if (!inNote) kept.push(line);
  }
  return kept.join("\n").replace(/^\n+$/, "");
}
