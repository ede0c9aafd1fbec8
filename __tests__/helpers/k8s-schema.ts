// Strict validation of Kubernetes objects against the official API definitions (1.28 and 1.36 in
// shared/k8s-schema), with unknown fields rejected: it catches misspelled fields that
// kubernetes-models lets through. Shared by the schema test and the property test.
import { readFileSync } from 'fs';
import { join } from 'path';
import Ajv, { ValidateFunction } from 'ajv';

const SCHEMA_DIR = join(__dirname, '..', '..', '..', 'shared', 'k8s-schema');

/** The API definitions files the objects must validate against. */
export const STRICT_SCHEMAS = ['v1.28.0-definitions.json', 'v1.36.0-definitions.json'] as const;

/** A validator per kind for one API version's definitions, with additionalProperties: false. */
export function strictValidators(file: string): (doc: any) => ValidateFunction {
  const defs = JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')).definitions as Record<string, any>;
  for (const def of Object.values(defs)) {
    if (def.type === 'object' && def.properties && def.additionalProperties === undefined) def.additionalProperties = false;
  }
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ $id: 'k8s', definitions: defs });
  const byKind = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
      byKind.set(`${gvk.group ? `${gvk.group}/` : ''}${gvk.version}/${gvk.kind}`, name);
    }
  }
  return (doc) => {
    const name = byKind.get(`${doc.apiVersion}/${doc.kind}`);
    if (!name) throw new Error(`${file} has no definition for ${doc.apiVersion}/${doc.kind}`);
    return ajv.getSchema(`k8s#/definitions/${name}`)!;
  };
}
