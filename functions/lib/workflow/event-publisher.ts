import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { eventSource } from "./events.ts";

/** Publishes kubeferry events on an EventBridge bus; a refused entry is an error, not a silent loss. */
export function eventBridgePublisher(client: EventBridgeClient, eventBusName: string) {
  return async (detailType: string, detail: Record<string, unknown>): Promise<void> => {
    const response = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: eventBusName,
            Source: eventSource,
            DetailType: detailType,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if ((response.FailedEntryCount ?? 0) > 0) {
      const entry = response.Entries?.[0];
      throw new Error(
        `EventBridge bus ${eventBusName} refused the ${detailType} event: ${entry?.ErrorCode} ${entry?.ErrorMessage}`,
      );
    }
  };
}
