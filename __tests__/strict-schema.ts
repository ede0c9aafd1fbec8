// Strict validation against the official Kubernetes API definitions (/work/shared/k8s-schema): every
// object type gets additionalProperties: false, so a misspelled or unknown field is an error, and
// objects are looked up by group-qualified apiVersion and kind (networking.k8s.io/v1 NetworkPolicy).
import { readFileSync } from 'fs';
import { join } from 'path';
import Ajv, { ValidateFunction } from 'ajv';

export const SCHEMA_DIR = join(__dirname, '..', '..', 'shared', 'k8s-schema');
/** The oldest and the newest Kubernetes versions whose definitions we validate against. */
export const SCHEMA_FILES = ['v1.28.0-definitions.json', 'v1.36.0-definitions.json'];

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
