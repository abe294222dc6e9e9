// Keeps allocating until the sandbox's memory runs out.
export const handler = async () => {
  const kept = [];
  for (;;) kept.push(new Array(1_000_000).fill(kept.length));
};
