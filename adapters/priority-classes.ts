/** PriorityClass objects from the API server as core's PriorityClassInfo, parsed by core's edge parser. */
import type { V1PriorityClass } from '@kubernetes/client-node';
import { InputError } from '../core/errors.ts';
import { priorityClassFromObject } from '../core/objects.ts';
import type { PriorityClassInfo } from '../core/types.ts';

/** One PriorityClass, or undefined when it is not one core can use (the API server validated it; this is defensive). */
export function classInfo(pc: V1PriorityClass): PriorityClassInfo | undefined {
  try {
    return priorityClassFromObject(pc, `priorityclass ${pc.metadata?.name ?? ''}`);
  } catch (err) {
    if (err instanceof InputError) return undefined;
    throw err;
  }
}

/** Every usable PriorityClass of a watched list, in list order. */
export function classInfos(list: readonly V1PriorityClass[]): PriorityClassInfo[] {
  return list.map(classInfo).filter((c): c is PriorityClassInfo => c !== undefined);
}
