import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type TaskName, taskNames, taskOfDescription } from "../task-catalog.ts";
import type { AslDefinition } from "./time-scale.ts";

/**
 * The workflow as `cdk synth` produces it for AWS: each state machine's definition asset with
 * its substitutions, and each Task's function — its bundle folder, handler, timeout, memory and
 * environment — read from the template, so a local run executes what would be deployed.
 */
export interface CloudAssembly {
  stateMachines: Array<{ logicalId: string; definition: AslDefinition }>;
  functions: Record<TaskName, DeployedFunction>;
}

export interface DeployedFunction {
  task: TaskName;
  /** The bundle file (the asset folder's `index.mjs` for handler `index.handler`). */
  bundle: string;
  handlerExport: string;
  timeoutSeconds: number;
  memoryMiB: number;
  /** As synthesized: values CloudFormation resolves (Ref, GetAtt) are left as they are. */
  environment: Record<string, unknown>;
}

interface TemplateResource {
  Type: string;
  Properties: {
    // AWS::StepFunctions::StateMachine
    DefinitionString?: unknown;
    DefinitionS3Location?: { Key?: string };
    DefinitionSubstitutions?: Record<string, { "Fn::GetAtt"?: [string, string]; Ref?: string } | string>;
    // AWS::Lambda::Function
    Handler?: string;
    Code?: { S3Key?: string };
    Timeout?: number;
    MemorySize?: number;
    Description?: string;
    Environment?: { Variables?: Record<string, unknown> };
  };
}

interface AssetManifest {
  files?: Record<string, { source: { path: string }; destinations?: Record<string, { objectKey?: string }> }>;
}

/** Local runs name each Task's function `<prefix><Task>` in the definitions. */
export const localArnPrefix = "arn:aws:lambda:local:000000000000:function:";

export function localFunctionArn(name: string): string {
  return `${localArnPrefix}${name}`;
}

/** A synthesized state machine's ARN in a local run (what a nested execution's Task names). */
export function localStateMachineArnOf(logicalId: string): string {
  return `arn:aws:states:local:000000000000:stateMachine:${logicalId}`;
}

/**
 * `values` gives a local value for each substitution that is not a function ARN (the staging
 * bucket's name); one without a value stays `${Name}` in the definition, for the state that uses
 * it to refuse by name.
 */
export function readCloudAssembly(
  cdkOutDir: string,
  stackName: string,
  values: Record<string, string> = {},
): CloudAssembly {
  const template: { Resources: Record<string, TemplateResource> } = JSON.parse(
    readFileSync(join(cdkOutDir, `${stackName}.template.json`), "utf8"),
  );
  const assets: AssetManifest = JSON.parse(readFileSync(join(cdkOutDir, `${stackName}.assets.json`), "utf8"));
  const assetPath = (key: string | undefined) => join(cdkOutDir, assetSource(assets, key));
  const stateMachines: CloudAssembly["stateMachines"] = [];
  const functionIds = new Map<string, TaskName>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== "AWS::StepFunctions::StateMachine") continue;
    const props = resource.Properties;
    const text: string = props.DefinitionString
      ? resolveJoin(props.DefinitionString)
      : readFileSync(assetPath(props.DefinitionS3Location?.Key), "utf8");
    const substituted = text.replace(/\$\{(\w+)\}/g, (whole, name: string) => {
      const value = props.DefinitionSubstitutions?.[name];
      if (value === undefined) throw new Error(`${logicalId}: no substitution for ${whole}`);
      // Another machine of the stack (a nested execution's): its ARN in the local run.
      const machine = typeof value === "object" ? value.Ref : undefined;
      if (machine && template.Resources[machine]?.Type === "AWS::StepFunctions::StateMachine") {
        return localStateMachineArnOf(machine);
      }
      if (!name.endsWith("FunctionArn")) return values[name] ?? whole;
      const task = taskOfSubstitution(name);
      const functionId = typeof value === "object" ? value["Fn::GetAtt"]?.[0] : undefined;
      if (typeof functionId === "string") functionIds.set(functionId, task);
      return localFunctionArn(task);
    });
    stateMachines.push({ logicalId, definition: JSON.parse(substituted) });
  }
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const task =
      resource.Type === "AWS::Lambda::Function" && taskOfDescription(resource.Properties?.Description);
    if (task) functionIds.set(logicalId, task);
  }
  const functions: Partial<Record<TaskName, DeployedFunction>> = {};
  for (const [logicalId, task] of functionIds) {
    const props = template.Resources[logicalId]?.Properties;
    if (!props) throw new Error(`the template has no function ${logicalId} for Task ${task}`);
    const [file, handlerExport] = String(props.Handler).split(".");
    functions[task] = {
      task,
      bundle: join(assetPath(props.Code?.S3Key), `${file}.mjs`),
      handlerExport: handlerExport ?? "handler",
      timeoutSeconds: props.Timeout ?? 3,
      memoryMiB: props.MemorySize ?? 128,
      environment: props.Environment?.Variables ?? {},
    };
  }
  return { stateMachines, functions: functions as Record<TaskName, DeployedFunction> };
}

function assetSource(assets: AssetManifest, key: string | undefined): string {
  for (const file of Object.values(assets.files ?? {})) {
    const destinations = Object.values(file.destinations ?? {});
    if (destinations.some((destination) => destination.objectKey === key)) return file.source.path;
  }
  throw new Error(`asset ${key} is not in the cloud assembly`);
}

function resolveJoin(value: unknown): string {
  if (typeof value === "string") return value;
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (!join) throw new Error(`cannot resolve ${JSON.stringify(value)} locally`);
  return join[1].map((part) => (typeof part === "string" ? part : resolveJoin(part))).join(join[0]);
}

function taskOfSubstitution(name: string): TaskName {
  const task = name.replace(/FunctionArn$/, "");
  if (!taskNames.includes(task as TaskName)) throw new Error(`substitution ${name} names no known Task`);
  return task as TaskName;
}

/**
 * A function's environment for a local run: literal values as synthesized, and for each value
 * only CloudFormation can resolve (the bucket's Ref, the key's ARN, …) the local one; `local`
 * may add variables (endpoints, credentials) and override synthesized ones.
 */
export function resolveEnvironment(
  fn: DeployedFunction,
  local: Record<string, string | null>,
): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...fn.environment, ...local })) {
    // null: a variable the local mode leaves unset (e.g. the bucket, with a filesystem repository).
    if (local[name] === null) continue;
    const localValue = local[name] ?? (typeof value === "string" ? value : undefined);
    if (localValue === undefined) {
      throw new Error(
        `${fn.task}: environment variable ${name} is ${JSON.stringify(value)} in the template; give the local run a value for it`,
      );
    }
    resolved[name] = localValue;
  }
  return resolved;
}
