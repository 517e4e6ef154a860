/**
 * Reads a rule's field path (`actor.alternateId`, `client.ipAddress`, `ip`) in an event's record. Only object
 * members are followed; a path through an array, or to an object, array or null, has no value.
 */
export function valueAt(record: unknown, path: string): string | undefined {
  let value: unknown = record;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
