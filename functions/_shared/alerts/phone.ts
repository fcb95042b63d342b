/**
 * Phone numbers for SMS and WhatsApp, validated with libphonenumber-js: people type national
 * formats ("07400 123456" with country GB), spaces and dashes; the database only ever stores
 * E.164 ("+447400123456"), which it re-checks by format.
 */
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

export type PhoneResult =
  | { ok: true; e164: string; country: string | null }
  | { ok: false; code: "invalid_phone" | "invalid_country"; message: string };

const COUNTRY = /^[A-Z]{2}$/;

/** `input` in any common format; `country` (ISO 3166 alpha-2) for numbers without a +country code. */
export function normalizePhone(input: string, country?: string): PhoneResult {
  if (country !== undefined && !COUNTRY.test(country)) {
    return { ok: false, code: "invalid_country", message: "country is a two-letter ISO 3166 code such as GB or PT." };
  }
  const parsed = parsePhoneNumberFromString(input.trim(), country as CountryCode | undefined);
  if (parsed === undefined || !parsed.isValid()) {
    return {
      ok: false,
      code: "invalid_phone",
      message: country === undefined && !input.trim().startsWith("+")
        ? "This is not a valid phone number. Start with + and the country code, or give the country."
        : "This is not a valid phone number.",
    };
  }
  return { ok: true, e164: parsed.number, country: parsed.country ?? null };
}
