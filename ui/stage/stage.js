// The live stage's browser module: filled in by the next commit.
export default function () {}
