/**
 * Alert templates: per notification type and locale (en, pt, es), an email (subject, plain text
 * and HTML) or a short text for SMS and WhatsApp.
 *
 * Copy is built from structured facts — the event's title, its local start time in the event's
 * own time zone, the venue — not from the English in-app title, so a Lisbon guest reads
 * Portuguese with Lisbon time. A type without its own template (another capability's new type)
 * falls back to a generic one around the notification's own title and body; an unknown locale
 * falls back to English. Everything interpolated into HTML is escaped.
 */
import type { ClaimedDelivery, EmailContent } from "./types.ts";

export const LOCALES = ["en", "pt", "es"] as const;
export type Locale = (typeof LOCALES)[number];

/** Facts a template may use. */
export interface TemplateContext {
  locale: Locale;
  name: string;
  /** The notification's own (English) title and body, for generic and money templates. */
  title: string;
  body: string | null;
  event: { title: string; when: string; where: string | null } | null;
  data: Record<string, unknown>;
}

/** What a template decides; the layout turns it into email or text. */
export interface Copy {
  subject: string;
  intro: string;
  detail?: string | null;
  action: string;
}

type Template = (c: TemplateContext) => Copy;
type Localised = Record<Locale, Template>;

const ev = (c: TemplateContext): string => c.event?.title ?? c.title;
const when = (c: TemplateContext): string => [c.event?.when, c.event?.where].filter(Boolean).join(" · ");
const str = (value: unknown): string | null => (typeof value === "string" && value !== "" ? value : null);

/** The generic template: the notification's own words. */
const generic: Localised = {
  en: (c) => ({ subject: c.title, intro: c.body ?? c.title, detail: c.event ? when(c) : null, action: "Open Rally" }),
  pt: (c) => ({ subject: c.title, intro: c.body ?? c.title, detail: c.event ? when(c) : null, action: "Abrir o Rally" }),
  es: (c) => ({ subject: c.title, intro: c.body ?? c.title, detail: c.event ? when(c) : null, action: "Abrir Rally" }),
};

/** Money and account templates keep the capability's own body as the detail line. */
const withBody = (subjects: Record<Locale, (c: TemplateContext) => string>, intros: Record<Locale, string>, actions: Record<Locale, string>): Localised => ({
  en: (c) => ({ subject: subjects.en(c), intro: intros.en, detail: c.body, action: actions.en }),
  pt: (c) => ({ subject: subjects.pt(c), intro: intros.pt, detail: c.body, action: actions.pt }),
  es: (c) => ({ subject: subjects.es(c), intro: intros.es, detail: c.body, action: actions.es }),
});

const VIEW_EVENT = { en: "View the event", pt: "Ver o evento", es: "Ver el evento" };
const VIEW_TICKET = { en: "View your ticket", pt: "Ver o bilhete", es: "Ver tu entrada" };
const VIEW_WALLET = { en: "Open your wallet", pt: "Abrir a carteira", es: "Abrir tu cartera" };
const VIEW_BOOKINGS = { en: "View your bookings", pt: "Ver as reservas", es: "Ver tus reservas" };

export const TEMPLATES: Record<string, Localised> = {
  welcome: {
    en: (c) => ({ subject: "Welcome to Rally", intro: `Welcome, ${c.name}! Find events near you and follow hosts you like.`, action: "Explore events" }),
    pt: (c) => ({ subject: "Bem-vindo ao Rally", intro: `Bem-vindo, ${c.name}! Descobre eventos perto de ti e segue os anfitriões de que gostas.`, action: "Explorar eventos" }),
    es: (c) => ({ subject: "Bienvenido a Rally", intro: `¡Bienvenido, ${c.name}! Descubre eventos cerca de ti y sigue a los anfitriones que te gusten.`, action: "Explorar eventos" }),
  },
  booking_confirmed: {
    en: (c) => ({ subject: `You're going to ${ev(c)}`, intro: "Your booking is confirmed. Your ticket and check-in code are in the app.", detail: when(c), action: VIEW_TICKET.en }),
    pt: (c) => ({ subject: `Vais a ${ev(c)}`, intro: "A tua reserva está confirmada. O bilhete e o código de entrada estão na app.", detail: when(c), action: VIEW_TICKET.pt }),
    es: (c) => ({ subject: `Vas a ${ev(c)}`, intro: "Tu reserva está confirmada. Tu entrada y el código de acceso están en la app.", detail: when(c), action: VIEW_TICKET.es }),
  },
  booking_request: {
    en: (c) => ({ subject: `New request for ${ev(c)}`, intro: "A guest asked to join your event. Approve or decline it in the app.", detail: when(c), action: "Review the request" }),
    pt: (c) => ({ subject: `Novo pedido para ${ev(c)}`, intro: "Um convidado pediu para participar. Aprova ou recusa na app.", detail: when(c), action: "Ver o pedido" }),
    es: (c) => ({ subject: `Nueva solicitud para ${ev(c)}`, intro: "Un invitado pidió unirse a tu evento. Apruébala o recházala en la app.", detail: when(c), action: "Ver la solicitud" }),
  },
  booking_approved: {
    en: (c) => ({ subject: `You're in: ${ev(c)}`, intro: str(c.data.pay_by) ? "The host approved your request. Pay within 24 hours to keep your seat." : "The host approved your request.", detail: when(c), action: VIEW_TICKET.en }),
    pt: (c) => ({ subject: `Estás dentro: ${ev(c)}`, intro: str(c.data.pay_by) ? "O anfitrião aprovou o teu pedido. Paga em 24 horas para garantir o lugar." : "O anfitrião aprovou o teu pedido.", detail: when(c), action: VIEW_TICKET.pt }),
    es: (c) => ({ subject: `Estás dentro: ${ev(c)}`, intro: str(c.data.pay_by) ? "El anfitrión aprobó tu solicitud. Paga en 24 horas para conservar tu plaza." : "El anfitrión aprobó tu solicitud.", detail: when(c), action: VIEW_TICKET.es }),
  },
  booking_declined: {
    en: (c) => ({ subject: `Your request for ${ev(c)} was declined`, intro: "The host could not take your request this time.", action: "Find other events" }),
    pt: (c) => ({ subject: `O teu pedido para ${ev(c)} foi recusado`, intro: "Desta vez o anfitrião não pôde aceitar o teu pedido.", action: "Procurar outros eventos" }),
    es: (c) => ({ subject: `Tu solicitud para ${ev(c)} fue rechazada`, intro: "Esta vez el anfitrión no pudo aceptar tu solicitud.", action: "Buscar otros eventos" }),
  },
  booking_expired: {
    en: (c) => ({ subject: `Your hold on ${ev(c)} expired`, intro: "The seats went back on sale. Book again if there is room.", action: VIEW_EVENT.en }),
    pt: (c) => ({ subject: `A tua reserva para ${ev(c)} expirou`, intro: "Os lugares voltaram à venda. Reserva de novo se ainda houver.", action: VIEW_EVENT.pt }),
    es: (c) => ({ subject: `Tu reserva para ${ev(c)} caducó`, intro: "Las plazas volvieron a la venta. Reserva de nuevo si queda sitio.", action: VIEW_EVENT.es }),
  },
  booking_cancelled: {
    en: (c) => ({ subject: c.title, intro: c.body ?? "A booking was cancelled.", detail: when(c), action: VIEW_BOOKINGS.en }),
    pt: (c) => ({ subject: `Reserva cancelada: ${ev(c)}`, intro: c.body ?? "Uma reserva foi cancelada.", detail: when(c), action: VIEW_BOOKINGS.pt }),
    es: (c) => ({ subject: `Reserva cancelada: ${ev(c)}`, intro: c.body ?? "Se canceló una reserva.", detail: when(c), action: VIEW_BOOKINGS.es }),
  },
  waitlist_offer: {
    en: (c) => ({ subject: `A spot opened up for ${ev(c)}`, intro: "It is yours for 2 hours: claim it before it goes to the next person.", detail: when(c), action: "Claim your spot" }),
    pt: (c) => ({ subject: `Abriu uma vaga para ${ev(c)}`, intro: "É tua durante 2 horas: garante-a antes que passe à pessoa seguinte.", detail: when(c), action: "Garantir a vaga" }),
    es: (c) => ({ subject: `Se liberó una plaza para ${ev(c)}`, intro: "Es tuya durante 2 horas: resérvala antes de que pase a la siguiente persona.", detail: when(c), action: "Reservar la plaza" }),
  },
  event_cancelled: {
    en: (c) => ({ subject: `${ev(c)} was cancelled`, intro: c.body ?? "The host cancelled this event.", detail: when(c), action: VIEW_BOOKINGS.en }),
    pt: (c) => ({ subject: `${ev(c)} foi cancelado`, intro: c.body ?? "O anfitrião cancelou este evento.", detail: when(c), action: VIEW_BOOKINGS.pt }),
    es: (c) => ({ subject: `${ev(c)} se canceló`, intro: c.body ?? "El anfitrión canceló este evento.", detail: when(c), action: VIEW_BOOKINGS.es }),
  },
  event_reminder: {
    en: (c) => ({ subject: c.data.kind === "1h" ? `Starting in 1 hour: ${ev(c)}` : `Tomorrow: ${ev(c)}`, intro: c.data.kind === "1h" ? "Have your check-in code ready." : "See you there. Your ticket is in the app.", detail: when(c), action: VIEW_TICKET.en }),
    pt: (c) => ({ subject: c.data.kind === "1h" ? `Começa daqui a 1 hora: ${ev(c)}` : `Amanhã: ${ev(c)}`, intro: c.data.kind === "1h" ? "Tem o código de entrada à mão." : "Até lá! O teu bilhete está na app.", detail: when(c), action: VIEW_TICKET.pt }),
    es: (c) => ({ subject: c.data.kind === "1h" ? `Empieza en 1 hora: ${ev(c)}` : `Mañana: ${ev(c)}`, intro: c.data.kind === "1h" ? "Ten a mano tu código de acceso." : "¡Nos vemos allí! Tu entrada está en la app.", detail: when(c), action: VIEW_TICKET.es }),
  },
  event_published: {
    en: (c) => ({ subject: c.data.kind === "promoted" ? `Don't miss ${ev(c)}` : `New event: ${ev(c)}`, intro: "A host you follow has an event coming up.", detail: when(c), action: VIEW_EVENT.en }),
    pt: (c) => ({ subject: c.data.kind === "promoted" ? `Não percas ${ev(c)}` : `Novo evento: ${ev(c)}`, intro: "Um anfitrião que segues tem um evento a caminho.", detail: when(c), action: VIEW_EVENT.pt }),
    es: (c) => ({ subject: c.data.kind === "promoted" ? `No te pierdas ${ev(c)}` : `Nuevo evento: ${ev(c)}`, intro: "Un anfitrión al que sigues tiene un evento próximamente.", detail: when(c), action: VIEW_EVENT.es }),
  },
  review_received: {
    en: (c) => ({ subject: c.title, intro: c.body ?? "A guest reviewed your event.", action: "Read and reply" }),
    pt: (c) => ({ subject: "Nova avaliação do teu evento", intro: c.body ?? "Um convidado avaliou o teu evento.", action: "Ler e responder" }),
    es: (c) => ({ subject: "Nueva reseña de tu evento", intro: c.body ?? "Un invitado reseñó tu evento.", action: "Leer y responder" }),
  },
  new_follower: {
    en: (c) => ({ subject: c.title, intro: "You have a new follower on Rally.", action: "See their profile" }),
    pt: (c) => ({ subject: `@${str(c.data.username) ?? ""} começou a seguir-te`, intro: "Tens um novo seguidor no Rally.", action: "Ver o perfil" }),
    es: (c) => ({ subject: `@${str(c.data.username) ?? ""} empezó a seguirte`, intro: "Tienes un nuevo seguidor en Rally.", action: "Ver el perfil" }),
  },
  message_received: {
    en: (c) => ({ subject: c.title, intro: c.body ?? "You have a new message.", action: "Reply" }),
    pt: (c) => ({ subject: c.title, intro: c.body ?? "Tens uma nova mensagem.", action: "Responder" }),
    es: (c) => ({ subject: c.title, intro: c.body ?? "Tienes un mensaje nuevo.", action: "Responder" }),
  },
  payment_succeeded: withBody(
    { en: (c) => `Receipt: ${ev(c)}`, pt: (c) => `Recibo: ${ev(c)}`, es: (c) => `Recibo: ${ev(c)}` },
    { en: "Your payment went through.", pt: "O teu pagamento foi aceite.", es: "Tu pago se completó." }, VIEW_TICKET),
  payment_failed: withBody(
    { en: (c) => `Payment failed: ${ev(c)}`, pt: (c) => `Pagamento falhou: ${ev(c)}`, es: (c) => `Pago fallido: ${ev(c)}` },
    { en: "Your payment did not go through. Your seat is held until the hold expires.", pt: "O pagamento não foi aceite. O lugar fica reservado até a reserva expirar.", es: "Tu pago no se completó. Tu plaza sigue reservada hasta que caduque la reserva." },
    { en: "Try again", pt: "Tentar de novo", es: "Intentar de nuevo" }),
  refund_issued: withBody(
    { en: (c) => `Refund on its way: ${ev(c)}`, pt: (c) => `Reembolso a caminho: ${ev(c)}`, es: (c) => `Reembolso en camino: ${ev(c)}` },
    { en: "Your refund was issued. Banks usually show it within 5–10 days.", pt: "O reembolso foi emitido. Os bancos costumam mostrá-lo em 5 a 10 dias.", es: "Tu reembolso se emitió. Los bancos suelen mostrarlo en 5 a 10 días." }, VIEW_BOOKINGS),
  refund_failed: withBody(
    { en: (c) => `Refund problem: ${ev(c)}`, pt: (c) => `Problema no reembolso: ${ev(c)}`, es: (c) => `Problema con el reembolso: ${ev(c)}` },
    { en: "We could not make your refund yet. Our team is on it.", pt: "Ainda não conseguimos fazer o reembolso. A nossa equipa está a tratar disso.", es: "Todavía no pudimos hacer tu reembolso. Nuestro equipo se está ocupando." }, VIEW_BOOKINGS),
  payout_paid: withBody(
    { en: () => "Your payout is on its way", pt: () => "O teu pagamento está a caminho", es: () => "Tu pago está en camino" },
    { en: "We sent a payout to your bank account.", pt: "Enviámos um pagamento para a tua conta bancária.", es: "Enviamos un pago a tu cuenta bancaria." }, VIEW_WALLET),
  payout_failed: withBody(
    { en: () => "Your payout failed", pt: () => "O teu pagamento falhou", es: () => "Tu pago falló" },
    { en: "Your bank returned the payout; the amount is back in your wallet. Check your bank details.", pt: "O banco devolveu o pagamento; o valor voltou à tua carteira. Verifica os dados bancários.", es: "Tu banco devolvió el pago; el importe volvió a tu cartera. Revisa tus datos bancarios." }, VIEW_WALLET),
  dispute_opened: withBody(
    { en: () => "A guest disputed a payment", pt: () => "Um convidado contestou um pagamento", es: () => "Un invitado disputó un pago" },
    { en: "The disputed amount is on hold while the bank decides.", pt: "O valor contestado fica retido enquanto o banco decide.", es: "El importe disputado queda retenido mientras el banco decide." }, VIEW_WALLET),
};

const GREETING: Record<Locale, (name: string) => string> = {
  en: (n) => `Hi ${n},`,
  pt: (n) => `Olá ${n},`,
  es: (n) => `Hola, ${n}:`,
};
const FOOTER: Record<Locale, string> = {
  en: "You get this because of your Rally notification settings.",
  pt: "Recebes isto por causa das tuas definições de notificações do Rally.",
  es: "Recibes esto por tu configuración de notificaciones de Rally.",
};
const MANAGE: Record<Locale, string> = { en: "Manage notifications", pt: "Gerir notificações", es: "Gestionar notificaciones" };

/** en, pt, es from a BCP 47 tag (pt-BR → pt); anything else → en. */
export function resolveLocale(tag: string | null): Locale {
  const language = (tag ?? "").toLowerCase().split("-")[0] ?? "";
  return (LOCALES as readonly string[]).includes(language) ? (language as Locale) : "en";
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The event's start in its own zone, in the reader's locale (the full tag, so en-GB reads
 * "Sun 14 Mar, 14:00 WET" and en-US "Sun, Mar 14, 10:00 EDT").
 */
export function formatEventTime(iso: string, timeZone: string, locale: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const key = `${locale}|${timeZone}`;
  try {
    // Building a formatter costs far more than using one: one per locale and zone.
    let formatter = formatters.get(key);
    if (formatter === undefined) {
      formatter = new Intl.DateTimeFormat(locale, {
        weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
        timeZone, timeZoneName: "short",
      });
      if (formatters.size < 1000) formatters.set(key, formatter);
    }
    return formatter.format(date);
  } catch {
    return date.toISOString();
  }
}

/** The profile's own tag when Intl knows it (pt-BR and pt-PT write dates differently), else the copy language. */
function formatLocale(tag: string | null, fallback: Locale): string {
  if (tag === null || tag === "") return fallback;
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([tag]).length > 0 ? tag : fallback;
  } catch {
    return fallback;
  }
}

export function templateContext(delivery: ClaimedDelivery): TemplateContext {
  const locale = resolveLocale(delivery.locale);
  const event = delivery.event;
  return {
    locale,
    name: delivery.display_name ?? "",
    title: delivery.title,
    body: delivery.body,
    data: delivery.data,
    event: event === null ? null : {
      title: event.title,
      when: formatEventTime(event.starts_at, event.timezone, formatLocale(delivery.locale, locale)),
      where: [event.venue_name, event.city].filter((part): part is string => part !== null && part !== "").join(", ") || null,
    },
  };
}

/** The copy for a delivery: its type's template in its locale, or the generic one. */
export function copyFor(delivery: ClaimedDelivery): { copy: Copy; locale: Locale; templated: boolean } {
  const context = templateContext(delivery);
  const template = TEMPLATES[delivery.type];
  return { copy: (template ?? generic)[context.locale](context), locale: context.locale, templated: template !== undefined };
}

/** Where the action button leads in the app. */
export function actionUrl(appUrl: string, data: Record<string, unknown>): string {
  const base = appUrl.replace(/\/+$/, "");
  const id = (key: string): string | null => {
    const value = str(data[key]);
    return value !== null && /^[0-9a-f-]{36}$/i.test(value) ? value : null;
  };
  const conversation = id("conversation_id");
  if (conversation !== null) return `${base}/messages/${conversation}`;
  const booking = id("booking_id");
  if (booking !== null) return `${base}/bookings/${booking}`;
  const event = id("event_id");
  if (event !== null) return `${base}/events/${event}`;
  const username = str(data.username);
  if (username !== null && /^[a-z0-9_]{3,30}$/.test(username)) return `${base}/u/${username}`;
  return base;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch] ?? ch);
}

export function renderEmail(delivery: ClaimedDelivery, appUrl: string): EmailContent {
  const { copy, locale } = copyFor(delivery);
  const url = actionUrl(appUrl, delivery.data);
  const settingsUrl = `${appUrl.replace(/\/+$/, "")}/settings/notifications`;
  const greeting = GREETING[locale](delivery.display_name ?? "");
  const detail = copy.detail !== undefined && copy.detail !== null && copy.detail !== "" ? copy.detail : null;
  const text = [greeting, "", copy.intro, ...(detail === null ? [] : ["", detail]), "", `${copy.action}: ${url}`, "", "—",
    FOOTER[locale], `${MANAGE[locale]}: ${settingsUrl}`].join("\n");
  const html = `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(copy.subject)}</title></head>
<body style="margin:0;padding:24px;background:#f6f6f4;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d1d1b">
<div style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:12px;padding:28px">
<p style="margin:0 0 16px">${escapeHtml(greeting)}</p>
<p style="margin:0 0 16px;font-size:16px;line-height:1.5">${escapeHtml(copy.intro)}</p>
${detail === null ? "" : `<p style="margin:0 0 20px;color:#555">${escapeHtml(detail)}</p>\n`}<p style="margin:0 0 8px"><a href="${escapeHtml(url)}" style="display:inline-block;background:#1d1d1b;color:#ffffff;text-decoration:none;padding:10px 18px;border-radius:8px">${escapeHtml(copy.action)}</a></p>
</div>
<p style="max-width:560px;margin:16px auto 0;font-size:12px;color:#777">${escapeHtml(FOOTER[locale])} <a href="${escapeHtml(settingsUrl)}" style="color:#777">${escapeHtml(MANAGE[locale])}</a></p>
</body></html>`;
  return { subject: copy.subject, text, html };
}

/** SMS / WhatsApp: one short message (subject, the when/where line, the link), at most 320 characters. */
export function renderText(delivery: ClaimedDelivery, appUrl: string): string {
  const { copy } = copyFor(delivery);
  const url = actionUrl(appUrl, delivery.data);
  const detail = copy.detail !== undefined && copy.detail !== null && copy.detail !== "" ? ` — ${copy.detail}` : "";
  const head = `Rally: ${copy.subject}${detail}`;
  const room = 320 - url.length - 1;
  return `${head.length > room ? `${head.slice(0, Math.max(0, room - 1))}…` : head} ${url}`;
}
