import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../functions/lib/errors.ts";
import { runIdFromExecution } from "../../../functions/lib/workflow/run.ts";
import {
  ExecutionAlreadyExists,
  type ExecutionStarter,
  executionNameFor,
  startTriggeredRun,
} from "../../../functions/lib/workflow/triggered-run.ts";

const validName = /^[A-Za-z0-9_-]{1,80}$/;

describe("execution names of triggers", () => {
  it("names a schedule's run after its scheduled time, without the ':' Step Functions refuses", () => {
    const name = executionNameFor({ schedule: "shop-dr", scheduledTime: "2026-03-22T18:59:43Z" });
    expect(name).toBe("kf-shop-dr-20260322T185943Z");
  });

  it("names an event's run after the event id", () => {
    const name = executionNameFor({ eventId: "6a7e8feb-b491-4cf7-a9f1-bf3703467718" });
    expect(name).toBe("kf-ev-6a7e8feb-b491-4cf7-a9f1-bf3703467718");
  });

  it("keeps every name valid, within the run id's 63 characters, and distinct for distinct triggers", () => {
    const long = "x".repeat(200);
    const names = [
      executionNameFor({ eventId: long }),
      executionNameFor({ eventId: `${long}y` }),
      executionNameFor({ eventId: "a:b" }),
      executionNameFor({ eventId: "a-b" }),
      executionNameFor({ schedule: `${long}.dr`, scheduledTime: "2026-03-22T18:59:43Z" }),
    ];
    for (const name of names) {
      expect(name).toMatch(validName);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(runIdFromExecution(name)).toBe(name.toLowerCase());
    }
    expect(new Set(names).size).toBe(names.length);
  });
});

describe("starting a triggered run", () => {
  const delivery = { trigger: { eventId: "e-1" }, request: { pair: "p", namespaces: ["shop"] } };

  it("treats ExecutionAlreadyExists as the run a previous delivery started", async () => {
    const started: string[] = [];
    const starter: ExecutionStarter = {
      async start(name) {
        if (started.includes(name)) throw new ExecutionAlreadyExists(`Execution Already Exists: '${name}'`);
        started.push(name);
        return { executionArn: `arn:${name}` };
      },
    };
    expect(await startTriggeredRun(delivery, starter)).toEqual({
      executionName: "kf-ev-e-1",
      started: true,
      executionArn: "arn:kf-ev-e-1",
    });
    expect(await startTriggeredRun(delivery, starter)).toMatchObject({ started: false });
    expect(started).toEqual(["kf-ev-e-1"]);
  });

  it("refuses an input that is not a trigger delivery, naming the field", async () => {
    const starter: ExecutionStarter = { start: () => Promise.reject(new Error("not called")) };
    const refused = startTriggeredRun({ trigger: { id: "x" }, request: {} }, starter);
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toThrow(/trigger/);
  });
});
