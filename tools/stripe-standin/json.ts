/** JSON values as the stand-in keeps and sends them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** A Stripe object as plain JSON (Stripe's types are interfaces, not index signatures). */
export const asJson = (value: object): JsonObject => value as unknown as JsonObject;
