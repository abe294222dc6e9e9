import { writeFileSync } from "node:fs";

// Works for event.seconds, then records that it finished (in event.marker) and returns.
export const handler = async (event, context) => {
  await new Promise((resolve) => setTimeout(resolve, event.seconds * 1000));
  if (event.marker)
    writeFileSync(event.marker, JSON.stringify({ finishedAt: Date.now(), requestId: context.awsRequestId }));
  return { slept: event.seconds };
};
