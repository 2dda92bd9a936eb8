// Validates Kubernetes objects against the schemas compiled into kubernetes-models (Kubernetes API)
// and @kubernetes-models/keda (KEDA CRDs), rejecting unknown fields at every depth.
//
// Reads a JSON array of objects on stdin and writes a JSON array on stdout: for each object, the
// list of its problems (empty when it validates). The packages are ESM-only, which jest (ts-jest,
// CommonJS) cannot load, so test/preprocessing/k8s-schema.ts runs this file in a child process.
import { readFileSync } from 'node:fs';

/** The package that models an API group; every other group comes from kubernetes-models. */
const GROUP_PACKAGES = {
  'keda.sh': '@kubernetes-models/keda',
  'eventing.keda.sh': '@kubernetes-models/keda',
};

const API_VERSION = /^(?:([a-z0-9.-]+)\/)?(v\d+(?:(?:alpha|beta)\d+)?)$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;

/**
 * Stands in for a property's value while probing whether the schema knows the property. It is of
 * no JSON type, so every property the schema declares with a type rejects it at its own path; an
 * unknown property is never looked at, because the compiled schemas allow additional properties.
 */
const PROBE = () => undefined;

const models = new Map();

/** The model class of an apiVersion/kind, or undefined when no installed package models it. */
async function modelOf(apiVersion, kind) {
  const key = `${apiVersion}/${kind}`;
  if (!models.has(key)) {
    models.set(key, await importModel(apiVersion, kind));
  }
  return models.get(key);
}

async function importModel(apiVersion, kind) {
  const version = API_VERSION.exec(apiVersion);
  if (!version || !KIND.test(kind)) {
    return undefined;
  }
  const group = version[1] ?? '';
  const modulePath = `${GROUP_PACKAGES[group] ?? 'kubernetes-models'}/${apiVersion}/${kind}`;
  let exported;
  try {
    exported = (await import(modulePath))[kind];
  } catch (error) {
    if (error.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || error.code === 'ERR_MODULE_NOT_FOUND') {
      return undefined;
    }
    throw error;
  }
  // Nested types (JobSpec, Container) have modules too; only top-level kinds carry apiVersion/kind.
  return exported?.apiVersion === apiVersion && exported?.kind === kind ? exported : undefined;
}

/** The schema's errors for a model (ajv error objects with instancePath and message). */
function schemaErrors(model) {
  try {
    model.validate();
    return [];
  } catch (error) {
    if (!Array.isArray(error.errors)) {
      throw error;
    }
    return error.errors;
  }
}

function describeError(error) {
  const allowed = error.params?.allowedValues;
  const detail = allowed ? ` (${allowed.map((v) => JSON.stringify(v)).join(', ')})` : '';
  return `${error.instancePath || '/'}: ${error.message}${detail}`;
}

function pointerSegment(key) {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The paths of the fields that the schema does not know: each field's value is swapped for PROBE
 * in turn, and a field whose path then draws no error is unknown. Known fields are descended into,
 * unknown ones are not (everything under them is unknown too).
 */
function unknownFields(model) {
  const found = [];
  const visitObject = (node, path) => {
    for (const key of Object.keys(node)) {
      const value = node[key];
      const keyPath = `${path}/${pointerSegment(key)}`;
      node[key] = PROBE;
      let known;
      try {
        known = schemaErrors(model).some((error) => error.instancePath === keyPath);
      } finally {
        node[key] = value;
      }
      if (known) {
        visitValue(value, keyPath);
      } else {
        found.push(keyPath);
      }
    }
  };
  const visitValue = (value, path) => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visitValue(item, `${path}/${index}`));
    } else if (value !== null && typeof value === 'object') {
      visitObject(value, path);
    }
  };
  visitObject(model, '');
  return found;
}

async function problemsOf(object) {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    return ['not an object'];
  }
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return ['apiVersion and kind must be strings'];
  }
  const Model = await modelOf(apiVersion, kind);
  if (!Model) {
    return [`no schema for ${apiVersion} ${kind}`];
  }
  const model = new Model(object);
  return [
    ...schemaErrors(model).map(describeError),
    ...unknownFields(model).map((path) => `${path}: unknown field`),
  ];
}

const objects = JSON.parse(readFileSync(0, 'utf8'));
const problems = [];
for (const object of objects) {
  problems.push(await problemsOf(object));
}
process.stdout.write(JSON.stringify(problems));
