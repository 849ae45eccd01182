import { MASKED_SECRET, type ConfigureJobError, type LeadsSettings } from "./partner-center-state.js";

/**
 * The `configure` body checked against the schema facts of partner-center §1.3 (customer-leads
 * 2022-03-01-preview2, verified text from release-engineering/cloudpub:schemas/azure/customer-leads-2022-03-01-preview2.json):
 * required `product` and `leadDestination`, a `oneOf` tying each destination to exactly one
 * `<destination>LeadConfiguration`, the Dynamics `oneOf` per authentication, uuid formats, lengths and
 * patterns. Unknown properties are refused (the schema is draft 2020-12 with closed objects per the
 * reference; that `unevaluatedProperties: false` holds for every object is UNCONFIRMED, the stricter choice).
 * The preview3 field list is UNCONFIRMED (§6): preview3 is checked like preview2, except Marketo, whose
 * `clientId`/`clientSecret` replace `serverId` per the 12-2022 changelog.
 */

export interface ParsedSchema {
  resourceType: string;
  version: string;
}

/** Both schema hosts are in use (partner-center §1.2 "Schema host"). */
const SCHEMA_URL =
  /^https:\/\/(?:product-ingestion\.azureedge\.net|schema\.mp\.microsoft\.com)\/schema\/([a-z0-9-]+)\/(\d{4}-\d{2}-\d{2}(?:-preview\d+)?)$/;

export function parseSchemaUrl(value: unknown): ParsedSchema | undefined {
  const match = typeof value === "string" ? SCHEMA_URL.exec(value) : null;
  return match ? { resourceType: match[1]!, version: match[2]! } : undefined;
}

export const CONFIGURE_VERSIONS = ["2022-03-01-preview2", "2022-07-01"];
export const CUSTOMER_LEADS_VERSIONS = ["2022-03-01-preview2", "2022-03-01-preview3"];

/** A customer-leads resource that passed the schema: what the job still has to resolve and apply. */
export interface LeadsResourceInput {
  /** For error reports: the resource's `id`, else its `resourceName`. */
  label: string | undefined;
  id: string | undefined;
  product: { guid: string } | { externalId: string };
  settings: LeadsSettings;
}

type Rule = (value: unknown) => string | undefined;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// Verbatim from the schema; `+-~` is a character range, so the class is wider than it looks.
const INSTANCE_URL = /^(http|https):\/\/[a-zA-Z0-9/?$+-~!@#%^&*()_='.:[\]@,;]+$/;
const STORAGE_CONNECTION =
  /^DefaultEndpointsProtocol=https;AccountName=[^;]+;AccountKey=[^;]+(;EndpointSuffix=(core\.windows\.net|core\.usgovcloudapi\.net|core\.chinacloudapi\.cn|core\.cloudapi\.de))?$/;
export const EXTERNAL_ID = /^[a-z0-9][a-z0-9-_]{2,49}$/;
const DURABLE_PRODUCT = /^product\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

const text =
  (min: number, max: number, pattern?: RegExp, patternName?: string): Rule =>
  (value) => {
    if (typeof value !== "string") return "must be a string";
    if (value.length < min || value.length > max) return `must be ${min} to ${max} characters long (got ${value.length})`;
    if (pattern && !pattern.test(value)) return `does not match the ${patternName ?? "required"} pattern`;
    return undefined;
  };
const uuid: Rule = (value) => (typeof value === "string" && UUID.test(value) ? undefined : "is not a valid uuid");
/** A secret: plain text within the length, or the masked-secret form (never echoed in messages). */
const secret =
  (max: number, pattern?: RegExp): Rule =>
  (value) =>
    value === MASKED_SECRET ? undefined : text(1, max, pattern, "secret")(value);
const emails =
  (minItems: number): Rule =>
  (value) => {
    if (!Array.isArray(value)) return "must be an array of email addresses";
    if (value.length < minItems) return `must hold at least ${minItems} email address`;
    const bad = value.findIndex((item) => typeof item !== "string" || !EMAIL.test(item));
    return bad >= 0 ? `item ${bad} is not a valid email address` : undefined;
  };
const oneOfValues =
  (values: string[]): Rule =>
  (value) =>
    typeof value === "string" && values.includes(value) ? undefined : `must be one of ${values.join(", ")}`;

interface ObjectSchema {
  properties: Record<string, Rule>;
  required: string[];
  /** Cross-property rules (`oneOf` branches): the problems found. */
  oneOf?: (object: Record<string, unknown>) => string[];
}

/** Dynamics: one branch per authentication (partner-center §1.3, "The Dynamics object has its own oneOf"). */
function dynamicsBranches(object: Record<string, unknown>): string[] {
  const has = (name: string) => object[name] !== undefined;
  const appFields = ["applicationId", "applicationKey", "directoryId"];
  if (object.authentication === "azureAD") {
    const problems = appFields.filter((name) => !has(name)).map((name) => `authentication "azureAD" requires ${name}`);
    if (has("username") && has("password")) problems.push(`authentication "azureAD" must not carry both username and password`);
    return problems;
  }
  if (object.authentication === "office365") {
    const problems = ["username", "password"].filter((name) => !has(name)).map((name) => `authentication "office365" requires ${name}`);
    if (appFields.every(has)) problems.push(`authentication "office365" must not carry applicationId, applicationKey and directoryId`);
    return problems;
  }
  return [];
}

function configurationSchemas(version: string): Record<string, ObjectSchema> {
  const contactEmail = emails(0);
  const marketoPreview3 = version >= "2022-03-01-preview3";
  return {
    dynamics: {
      required: ["instanceUrl", "authentication"],
      properties: {
        instanceUrl: text(1, Number.MAX_SAFE_INTEGER, INSTANCE_URL, "instanceUrl"),
        authentication: oneOfValues(["azureAD", "office365"]),
        applicationId: uuid,
        applicationKey: secret(2048),
        directoryId: uuid,
        username: text(1, 128),
        password: secret(256),
        contactEmail,
      },
      oneOf: dynamicsBranches,
    },
    httpsEndpoint: {
      required: ["httpsEndpointUrl"],
      properties: { httpsEndpointUrl: text(9, 2048, /^https:\/\//, "https URL"), contactEmail },
    },
    table: {
      required: ["storageAccountConnectionString"],
      properties: { storageAccountConnectionString: secret(4096, STORAGE_CONNECTION), contactEmail },
    },
    salesforce: {
      required: ["objectIdentifier"],
      properties: { objectIdentifier: text(15, 15, /^[a-zA-Z0-9]{15}$/, "org ID"), contactEmail },
    },
    // The character class of munchkinId is elided in the reference (UNCONFIRMED): letters and digits.
    marketo: marketoPreview3
      ? {
          required: ["clientId", "clientSecret", "munchkinId", "formId"],
          properties: {
            clientId: text(1, 256),
            clientSecret: secret(256),
            munchkinId: text(11, 11, /^[a-zA-Z0-9]{3}-[a-zA-Z0-9]{3}-[a-zA-Z0-9]{3}$/, "munchkinId"),
            formId: text(1, 8, /^\d{1,8}$/, "formId"),
            contactEmail,
          },
        }
      : {
          required: ["serverId", "munchkinId", "formId"],
          properties: {
            serverId: text(1, 256),
            munchkinId: text(11, 11, /^[a-zA-Z0-9]{3}-[a-zA-Z0-9]{3}-[a-zA-Z0-9]{3}$/, "munchkinId"),
            formId: text(1, 8, /^\d{1,8}$/, "formId"),
            contactEmail,
          },
        },
    email: { required: ["contactEmail"], properties: { contactEmail: emails(1) } },
    blob: {
      required: ["storageAccountConnectionString", "containerName"],
      properties: { storageAccountConnectionString: secret(4096, STORAGE_CONNECTION), containerName: text(3, 63), contactEmail },
    },
  };
}

export const LEAD_DESTINATIONS = ["none", "blob", "dynamics", "email", "httpsEndpoint", "marketo", "salesforce", "table"];
export const configurationProperty = (destination: string) => `${destination}LeadConfiguration`;
const CONFIGURATION_PROPERTIES = LEAD_DESTINATIONS.filter((d) => d !== "none").map(configurationProperty);
const RESOURCE_PROPERTIES = new Set([
  "$schema",
  "id",
  "resourceName",
  "validations",
  "product",
  "leadDestination",
  ...CONFIGURATION_PROPERTIES,
]);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function checkObject(object: unknown, schema: ObjectSchema, path: string): string[] {
  if (!isObject(object)) return [`${path} must be an object`];
  const problems = Object.keys(object)
    .filter((name) => !(name in schema.properties))
    .map((name) => `${path}.${name} is not an allowed property`);
  problems.push(...schema.required.filter((name) => object[name] === undefined).map((name) => `${path}.${name} is required`));
  for (const [name, rule] of Object.entries(schema.properties)) {
    if (object[name] === undefined) continue;
    const problem = rule(object[name]);
    if (problem) problems.push(`${path}.${name} ${problem}`);
  }
  if (schema.oneOf) problems.push(...schema.oneOf(object).map((problem) => `${path}: ${problem}`));
  return problems;
}

function checkProductReference(value: unknown, path: string): { problems: string[]; product?: LeadsResourceInput["product"] } {
  if (typeof value === "string") {
    const guid = DURABLE_PRODUCT.exec(value)?.[1];
    return guid
      ? { problems: [], product: { guid: guid.toLowerCase() } }
      : { problems: [`${path} is not a product durable id (product/<guid>)`] };
  }
  if (isObject(value)) {
    const problems = checkObject(
      value,
      { required: ["externalId"], properties: { externalId: text(3, 50, EXTERNAL_ID, "externalId") } },
      path,
    );
    return problems.length > 0 ? { problems } : { problems, product: { externalId: value.externalId as string } };
  }
  return { problems: [`${path} is required: a product durable id or {"externalId": "<offer id>"}`] };
}

/** The schema problems of one customer-leads resource, or what the job has to apply. */
function checkLeadsResource(
  resource: Record<string, unknown>,
  version: string,
  path: string,
): { problems: string[]; input?: LeadsResourceInput } {
  const problems = Object.keys(resource)
    .filter((name) => !RESOURCE_PROPERTIES.has(name))
    .map((name) => `${path}.${name} is not an allowed property`);
  if (resource.id !== undefined && (typeof resource.id !== "string" || !/^customer-leads\/[0-9a-f-]{36}$/i.test(resource.id)))
    problems.push(`${path}.id is not a customer-leads durable id (customer-leads/<guid>)`);
  if (resource.resourceName !== undefined)
    problems.push(...[text(1, 50)(resource.resourceName)].filter(Boolean).map((p) => `${path}.resourceName ${p}`));
  const reference = checkProductReference(resource.product, `${path}.product`);
  problems.push(...reference.problems);
  const destination = resource.leadDestination;
  if (destination === undefined) problems.push(`${path}.leadDestination is required`);
  else if (typeof destination !== "string" || !LEAD_DESTINATIONS.includes(destination))
    problems.push(`${path}.leadDestination must be one of ${LEAD_DESTINATIONS.join(", ")}`);
  else {
    const expected = destination === "none" ? undefined : configurationProperty(destination);
    for (const other of CONFIGURATION_PROPERTIES.filter((name) => name !== expected && resource[name] !== undefined)) {
      problems.push(`${path}.${other} is not allowed with leadDestination "${destination}" (oneOf)`);
    }
    if (expected && resource[expected] === undefined)
      problems.push(`${path}.${expected} is required with leadDestination "${destination}" (oneOf)`);
    else if (expected)
      problems.push(...checkObject(resource[expected], configurationSchemas(version)[destination]!, `${path}.${expected}`));
  }
  if (problems.length > 0 || !reference.product) return { problems };
  const settings: LeadsSettings = { leadDestination: destination as string };
  const expected = destination === "none" ? undefined : configurationProperty(destination as string);
  if (expected) settings[expected] = structuredClone(resource[expected]);
  const label =
    typeof resource.id === "string" ? resource.id : typeof resource.resourceName === "string" ? resource.resourceName : undefined;
  return { problems, input: { label, id: resource.id as string | undefined, product: reference.product, settings } };
}

export interface ConfigureValidation {
  resources: LeadsResourceInput[];
  errors: ConfigureJobError[];
}

/**
 * Schema validation of a whole configure body. Any schema error fails the job and nothing is applied:
 * that the service validates every resource before processing any is UNCONFIRMED (chosen: all or nothing
 * at the schema stage; business errors such as productLocked are per resource, see partner-center.ts).
 */
export function validateConfigureBody(body: unknown): ConfigureValidation {
  const errors: ConfigureJobError[] = [];
  const schemaError = (message: string, resourceId?: string) =>
    errors.push({ code: "schemaValidationError", message, ...(resourceId ? { resourceId } : {}), details: [] });
  if (!isObject(body))
    return {
      resources: [],
      errors: [{ code: "schemaValidationError", message: "The configure body must be a JSON object.", details: [] }],
    };
  const envelope = parseSchemaUrl(body.$schema);
  if (!envelope || envelope.resourceType !== "configure" || !CONFIGURE_VERSIONS.includes(envelope.version))
    schemaError(`$schema must be a configure schema (${CONFIGURE_VERSIONS.join(" or ")}).`);
  for (const name of Object.keys(body).filter((n) => n !== "$schema" && n !== "resources"))
    schemaError(`${name} is not an allowed property of the configure body.`);
  if (!Array.isArray(body.resources) || body.resources.length === 0) {
    schemaError("resources is required: a non-empty array.");
    return { resources: [], errors };
  }
  const resources: LeadsResourceInput[] = [];
  body.resources.forEach((resource: unknown, index: number) => {
    const path = `resources[${index}]`;
    if (!isObject(resource)) return schemaError(`${path} must be an object.`);
    const label =
      typeof resource.id === "string" ? resource.id : typeof resource.resourceName === "string" ? resource.resourceName : undefined;
    const schema = parseSchemaUrl(resource.$schema);
    if (!schema) return schemaError(`${path}.$schema is required: a resource schema URL.`, label);
    if (schema.resourceType !== "customer-leads") {
      // The sandbox emulates only the resource this tool writes.
      return errors.push({
        code: "notSupported",
        message: `${path}: the sandbox emulates only customer-leads, not ${schema.resourceType}.`,
        ...(label ? { resourceId: label } : {}),
        details: [],
      });
    }
    if (!CUSTOMER_LEADS_VERSIONS.includes(schema.version))
      return schemaError(`${path}.$schema: customer-leads ${schema.version} does not exist.`, label);
    const checked = checkLeadsResource(resource, schema.version, path);
    for (const problem of checked.problems) schemaError(`${problem}.`, label);
    if (checked.input) resources.push(checked.input);
  });
  return { resources, errors };
}
