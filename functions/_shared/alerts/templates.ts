/**
 * Alert templates: per notification type and locale (en, pt, es), an email (subject, plain text
 * and HTML), a short text for SMS and free-form WhatsApp, a push notification, and the values of
 * an approved WhatsApp template's placeholders.
 *
 * Copy is built from structured facts — the event's title, its local start time in the event's
 * own time zone, the venue, an amount in the reader's currency format — not from the English
 * in-app title, so a Lisbon guest reads Portuguese with Lisbon time. Every type in the catalogue
 * (private.notification_types) has a template in every locale, and every template's type is in
 * the catalogue: tests/alerts/catalogue.test.ts checks both. A type without a template would
 * fall back to a generic one around the notification's own title and body; an unknown locale
 * falls back to English. Everything interpolated into HTML is escaped.
 */
import type { ClaimedDelivery, EmailContent, PushContent, WhatsAppTemplate } from "./types.ts";

export const LOCALES = ["en", "pt", "es"] as const;
export type Locale = (typeof LOCALES)[number];

/** Facts a template may use. */
export interface TemplateContext {
  locale: Locale;
  /** The reader's own tag when Intl knows it (pt-BR and pt-PT write dates differently), for dates and money. */
  formatLocale: string;
  name: string;
  /** The notification's own (English) title and body, for generic and money templates. */
  title: string;
  body: string | null;
  event: { title: string; when: string; where: string | null; startsAt: string; timeZone: string } | null;
  data: Record<string, unknown>;
  /** The reader's own time zone: times that are about them (a hold, a refund window, a moved start) are given in it. */
  timeZone: string;
  /** data.amount_cents in data.currency, formatted for the reader, or null. */
  amount: string | null;
}

/** What a template decides; the layout turns it into email, text or a push. */
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
/** An instant from data (ISO string) in the reader's zone and locale, or null. */
const at = (c: TemplateContext, key: string): string | null => {
  const iso = str(c.data[key]);
  return iso === null ? null : formatEventTime(iso, c.timeZone, c.formatLocale) || null;
};
/** The first block of the booking id, what support asks for. */
const bookingRef = (c: TemplateContext): string => (str(c.data.booking_id) ?? "").slice(0, 8).toUpperCase();
const sentence = (...parts: (string | null | false | undefined)[]): string =>
  parts.filter((p): p is string => typeof p === "string" && p !== "").join(" ");
/** data.fee_cents-like amounts in the notification's currency. */
const moneyOf = (c: TemplateContext, key: string): string | null => {
  const cents = c.data[key];
  const currency = str(c.data.currency);
  return typeof cents === "number" && currency !== null ? formatMoney(cents, currency, c.formatLocale) : null;
};

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

/**
 * Alerts for admins (category operations): the capability's own words (amounts, ids, Stripe
 * objects an operator looks up), framed in the reader's language.
 */
const forOperators: Localised = {
  en: (c) => ({ subject: `Rally operations: ${c.title}`, intro: c.body ?? c.title, action: "Open the admin dashboard" }),
  pt: (c) => ({ subject: `Operações Rally: ${c.title}`, intro: c.body ?? c.title, action: "Abrir o painel de administração" }),
  es: (c) => ({ subject: `Operaciones Rally: ${c.title}`, intro: c.body ?? c.title, action: "Abrir el panel de administración" }),
};

const VIEW_EVENT = { en: "View the event", pt: "Ver o evento", es: "Ver el evento" };
const VIEW_TICKET = { en: "View your ticket", pt: "Ver o bilhete", es: "Ver tu entrada" };
const VIEW_WALLET = { en: "Open your wallet", pt: "Abrir a carteira", es: "Abrir tu cartera" };
const VIEW_BOOKINGS = { en: "View your bookings", pt: "Ver as reservas", es: "Ver tus reservas" };
const OPEN_CHAT = { en: "Open the chat", pt: "Abrir a conversa", es: "Abrir el chat" };

interface ChangeWords { time: string; place: string; link: string; refund: string; reason: string }

/**
 * What changed (change_event_details), in the reader's zone: the new start, the new place, a
 * new link, and until when a material change lets them cancel with a full refund.
 */
function changeNotice(c: TemplateContext, w: ChangeWords): string {
  const startsAt = c.event === null ? null : formatEventTime(c.event.startsAt, c.timeZone, c.formatLocale);
  const window = at(c, "refund_window_until");
  const reason = str(c.data.reason);
  return sentence(
    c.data.time_changed === true && startsAt ? `${w.time}: ${startsAt}.` : null,
    c.data.place_changed === true ? `${w.place}: ${c.event?.where ?? "—"}.` : null,
    c.data.link_changed === true ? w.link : null,
    c.data.material === true && window !== null ? `${w.refund} ${window}.` : null,
    reason === null ? null : `${w.reason}: ${reason}`,
  );
}

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
  guest_cancelled: {
    en: (c) => ({ subject: `A guest cancelled for ${ev(c)}`, intro: "Their seats are back on sale. Your bookings list has the details.", detail: when(c), action: VIEW_EVENT.en }),
    pt: (c) => ({ subject: `Um convidado cancelou: ${ev(c)}`, intro: "Os lugares voltaram à venda. A lista de reservas tem os detalhes.", detail: when(c), action: VIEW_EVENT.pt }),
    es: (c) => ({ subject: `Un invitado canceló: ${ev(c)}`, intro: "Sus plazas vuelven a estar a la venta. Tu lista de reservas tiene los detalles.", detail: when(c), action: VIEW_EVENT.es }),
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
  event_changed: {
    en: (c) => ({ subject: `${ev(c)} has changed`, intro: changeNotice(c, { time: "New time", place: "New place", link: "The online link changed: the new one is in the app.", refund: "You can cancel for a full refund until", reason: "From the host" }), action: VIEW_TICKET.en }),
    pt: (c) => ({ subject: `${ev(c)} mudou`, intro: changeNotice(c, { time: "Nova hora", place: "Novo local", link: "O link online mudou: o novo está na app.", refund: "Podes cancelar com reembolso total até", reason: "Do anfitrião" }), action: VIEW_TICKET.pt }),
    es: (c) => ({ subject: `${ev(c)} ha cambiado`, intro: changeNotice(c, { time: "Nueva hora", place: "Nuevo lugar", link: "El enlace online cambió: el nuevo está en la app.", refund: "Puedes cancelar con reembolso completo hasta el", reason: "Del anfitrión" }), action: VIEW_TICKET.es }),
  },
  event_reminder: {
    en: (c) => ({ subject: c.data.kind === "1h" ? `Starting in 1 hour: ${ev(c)}` : `Tomorrow: ${ev(c)}`, intro: c.data.kind === "1h" ? "Have your check-in code ready." : "See you there. Your ticket is in the app.", detail: when(c), action: VIEW_TICKET.en }),
    pt: (c) => ({ subject: c.data.kind === "1h" ? `Começa daqui a 1 hora: ${ev(c)}` : `Amanhã: ${ev(c)}`, intro: c.data.kind === "1h" ? "Tem o código de entrada à mão." : "Até lá! O teu bilhete está na app.", detail: when(c), action: VIEW_TICKET.pt }),
    es: (c) => ({ subject: c.data.kind === "1h" ? `Empieza en 1 hora: ${ev(c)}` : `Mañana: ${ev(c)}`, intro: c.data.kind === "1h" ? "Ten a mano tu código de acceso." : "¡Nos vemos allí! Tu entrada está en la app.", detail: when(c), action: VIEW_TICKET.es }),
  },
  // The host's own words, in whatever language they wrote them, as the intro (an SMS and a push
  // carry them whole); the subject names the event, the frame is the reader's.
  event_announcement: {
    en: (c) => ({ subject: `${ev(c)}: ${c.title}`, intro: c.body ?? c.title, action: VIEW_EVENT.en }),
    pt: (c) => ({ subject: `${ev(c)}: ${c.title}`, intro: c.body ?? c.title, action: VIEW_EVENT.pt }),
    es: (c) => ({ subject: `${ev(c)}: ${c.title}`, intro: c.body ?? c.title, action: VIEW_EVENT.es }),
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
  message_reminder: {
    en: (c) => ({ subject: c.title, intro: c.body ?? "A reminder in your chat is due.", action: OPEN_CHAT.en }),
    pt: (c) => ({ subject: c.title === "Reminder" ? "Lembrete" : c.title, intro: c.body ?? "Chegou a hora de um lembrete na tua conversa.", action: OPEN_CHAT.pt }),
    es: (c) => ({ subject: c.title === "Reminder" ? "Recordatorio" : c.title, intro: c.body ?? "Ha llegado un recordatorio de tu chat.", action: OPEN_CHAT.es }),
  },
  group_invitation: {
    en: (c) => ({ subject: c.title, intro: c.body ?? "You were invited to a group chat. Accept or decline it in the app.", action: "See the invitation" }),
    pt: (c) => ({ subject: "Convite para um grupo", intro: c.body ?? "Foste convidado para uma conversa de grupo. Aceita ou recusa na app.", action: "Ver o convite" }),
    es: (c) => ({ subject: "Invitación a un grupo", intro: c.body ?? "Te invitaron a un chat de grupo. Acéptala o recházala en la app.", action: "Ver la invitación" }),
  },
  // Ticketing (invitations and transfers): the English title names the person; other languages say it without the name.
  event_invitation: {
    en: (c) => ({ subject: c.title, intro: "You are invited. Say whether you are coming in the app.", detail: when(c), action: VIEW_EVENT.en }),
    pt: (c) => ({ subject: `Foste convidado para ${ev(c)}`, intro: "Estás convidado. Diz na app se vais.", detail: when(c), action: VIEW_EVENT.pt }),
    es: (c) => ({ subject: `Te invitaron a ${ev(c)}`, intro: "Estás invitado. Dinos en la app si vienes.", detail: when(c), action: VIEW_EVENT.es }),
  },
  ticket_transfer_offered: {
    en: (c) => ({ subject: c.title, intro: sentence("Accept it in the app", at(c, "expires_at") ? `before ${at(c, "expires_at")}.` : "before the event starts."), detail: when(c), action: "See the offer" }),
    pt: (c) => ({ subject: `Querem dar-te um bilhete para ${ev(c)}`, intro: sentence("Aceita-o na app", at(c, "expires_at") ? `até ${at(c, "expires_at")}.` : "antes de o evento começar."), detail: when(c), action: "Ver a oferta" }),
    es: (c) => ({ subject: `Quieren darte una entrada para ${ev(c)}`, intro: sentence("Acéptala en la app", at(c, "expires_at") ? `antes del ${at(c, "expires_at")}.` : "antes de que empiece el evento."), detail: when(c), action: "Ver la oferta" }),
  },
  ticket_transfer_accepted: {
    en: (c) => ({ subject: c.title, intro: "They hold the ticket now.", detail: when(c), action: VIEW_BOOKINGS.en }),
    pt: (c) => ({ subject: `O bilhete para ${ev(c)} foi aceite`, intro: "O bilhete passou para a outra pessoa.", detail: when(c), action: VIEW_BOOKINGS.pt }),
    es: (c) => ({ subject: `Aceptaron tu entrada para ${ev(c)}`, intro: "La entrada pasó a la otra persona.", detail: when(c), action: VIEW_BOOKINGS.es }),
  },
  ticket_transfer_declined: {
    en: (c) => ({ subject: c.title, intro: "The ticket stays yours. You can offer it to someone else.", detail: when(c), action: VIEW_BOOKINGS.en }),
    pt: (c) => ({ subject: `O bilhete para ${ev(c)} foi recusado`, intro: "O bilhete continua a ser teu. Podes oferecê-lo a outra pessoa.", detail: when(c), action: VIEW_BOOKINGS.pt }),
    es: (c) => ({ subject: `Rechazaron tu entrada para ${ev(c)}`, intro: "La entrada sigue siendo tuya. Puedes ofrecérsela a otra persona.", detail: when(c), action: VIEW_BOOKINGS.es }),
  },
  // The receipt: what was paid, for what, Rally's part of it, and the booking reference.
  payment_succeeded: {
    en: (c) => ({ subject: `Receipt: ${ev(c)}`, intro: sentence(`Payment received: ${c.amount ?? ""} for ${String(c.data.quantity ?? 1)} × ${str(c.data.ticket_type) ?? "ticket"}.`, "Your ticket is in the app."), detail: sentence(when(c), `· Booking ${bookingRef(c)}`, moneyOf(c, "platform_fee_cents") === null ? null : `· Includes Rally's service fee of ${moneyOf(c, "platform_fee_cents")}`), action: VIEW_TICKET.en }),
    pt: (c) => ({ subject: `Recibo: ${ev(c)}`, intro: sentence(`Pagamento recebido: ${c.amount ?? ""} por ${String(c.data.quantity ?? 1)} × ${str(c.data.ticket_type) ?? "bilhete"}.`, "O teu bilhete está na app."), detail: sentence(when(c), `· Reserva ${bookingRef(c)}`, moneyOf(c, "platform_fee_cents") === null ? null : `· Inclui a taxa de serviço do Rally de ${moneyOf(c, "platform_fee_cents")}`), action: VIEW_TICKET.pt }),
    es: (c) => ({ subject: `Recibo: ${ev(c)}`, intro: sentence(`Pago recibido: ${c.amount ?? ""} por ${String(c.data.quantity ?? 1)} × ${str(c.data.ticket_type) ?? "entrada"}.`, "Tu entrada está en la app."), detail: sentence(when(c), `· Reserva ${bookingRef(c)}`, moneyOf(c, "platform_fee_cents") === null ? null : `· Incluye la comisión de servicio de Rally de ${moneyOf(c, "platform_fee_cents")}`), action: VIEW_TICKET.es }),
  },
  payment_failed: {
    en: (c) => ({ subject: `Payment failed: ${ev(c)}`, intro: sentence(`Your payment${c.amount ? ` of ${c.amount}` : ""} did not go through.`, at(c, "hold_expires_at") ? `Your seat is held until ${at(c, "hold_expires_at")}.` : null), detail: c.body, action: "Try again" }),
    pt: (c) => ({ subject: `Pagamento falhou: ${ev(c)}`, intro: sentence(`O teu pagamento${c.amount ? ` de ${c.amount}` : ""} não foi aceite.`, at(c, "hold_expires_at") ? `O lugar fica reservado até ${at(c, "hold_expires_at")}.` : null), detail: c.body, action: "Tentar de novo" }),
    es: (c) => ({ subject: `Pago fallido: ${ev(c)}`, intro: sentence(`Tu pago${c.amount ? ` de ${c.amount}` : ""} no se completó.`, at(c, "hold_expires_at") ? `Tu plaza sigue reservada hasta el ${at(c, "hold_expires_at")}.` : null), detail: c.body, action: "Intentar de nuevo" }),
  },
  payment_refunded_unfulfillable: withBody(
    { en: (c) => `Full refund: ${ev(c)}`, pt: (c) => `Reembolso total: ${ev(c)}`, es: (c) => `Reembolso completo: ${ev(c)}` },
    { en: "Your payment arrived after your hold ended and the seats were gone, so all of it comes back to you.", pt: "O pagamento chegou depois de a reserva expirar e os lugares já não existiam, por isso recebes tudo de volta.", es: "Tu pago llegó después de que caducara la reserva y ya no quedaban plazas, así que te lo devolvemos todo." },
    VIEW_BOOKINGS),
  refund_issued: {
    en: (c) => ({ subject: `Refund on its way: ${ev(c)}`, intro: `We refunded ${c.amount ?? "your payment"}. Banks usually show it within 5–10 days.`, detail: when(c), action: VIEW_BOOKINGS.en }),
    pt: (c) => ({ subject: `Reembolso a caminho: ${ev(c)}`, intro: `Reembolsámos ${c.amount ?? "o teu pagamento"}. Os bancos costumam mostrá-lo em 5 a 10 dias.`, detail: when(c), action: VIEW_BOOKINGS.pt }),
    es: (c) => ({ subject: `Reembolso en camino: ${ev(c)}`, intro: `Te reembolsamos ${c.amount ?? "tu pago"}. Los bancos suelen mostrarlo en 5 a 10 días.`, detail: when(c), action: VIEW_BOOKINGS.es }),
  },
  refund_failed: {
    en: (c) => ({ subject: `Refund delayed: ${ev(c)}`, intro: `We could not complete your refund${c.amount ? ` of ${c.amount}` : ""} yet. Our team is on it and will be in touch.`, action: VIEW_BOOKINGS.en }),
    pt: (c) => ({ subject: `Reembolso atrasado: ${ev(c)}`, intro: `Ainda não conseguimos concluir o teu reembolso${c.amount ? ` de ${c.amount}` : ""}. A nossa equipa está a tratar disso e vai contactar-te.`, action: VIEW_BOOKINGS.pt }),
    es: (c) => ({ subject: `Reembolso retrasado: ${ev(c)}`, intro: `Todavía no pudimos completar tu reembolso${c.amount ? ` de ${c.amount}` : ""}. Nuestro equipo se está ocupando y te contactará.`, action: VIEW_BOOKINGS.es }),
  },
  payouts_enabled: withBody(
    { en: () => "Payouts are set up", pt: () => "Os pagamentos estão configurados", es: () => "Los pagos están configurados" },
    { en: "Stripe verified your account: you can sell paid tickets and withdraw your earnings.", pt: "A Stripe verificou a tua conta: podes vender bilhetes pagos e levantar os teus ganhos.", es: "Stripe verificó tu cuenta: puedes vender entradas de pago y retirar tus ganancias." },
    VIEW_WALLET),
  payouts_disabled: withBody(
    { en: () => "Stripe needs more information", pt: () => "A Stripe precisa de mais informação", es: () => "Stripe necesita más información" },
    { en: "Payouts are paused until you finish the steps Stripe asks for.", pt: "Os pagamentos estão em pausa até concluíres os passos que a Stripe pede.", es: "Los pagos están en pausa hasta que completes los pasos que pide Stripe." },
    { en: "Finish setting up payouts", pt: "Concluir a configuração", es: "Completar la configuración" }),
  payout_paid: withBody(
    { en: () => "Your payout is on its way", pt: () => "O teu pagamento está a caminho", es: () => "Tu pago está en camino" },
    { en: "We sent a payout to your bank account.", pt: "Enviámos um pagamento para a tua conta bancária.", es: "Enviamos un pago a tu cuenta bancaria." }, VIEW_WALLET),
  payout_failed: withBody(
    { en: () => "Your payout failed", pt: () => "O teu pagamento falhou", es: () => "Tu pago falló" },
    { en: "Your bank returned the payout; the amount is back in your wallet. Check your bank details.", pt: "O banco devolveu o pagamento; o valor voltou à tua carteira. Verifica os dados bancários.", es: "Tu banco devolvió el pago; el importe volvió a tu cartera. Revisa tus datos bancarios." }, VIEW_WALLET),
  dispute_opened: withBody(
    { en: () => "A guest disputed a payment", pt: () => "Um convidado contestou um pagamento", es: () => "Un invitado disputó un pago" },
    { en: "The disputed amount is on hold while the bank decides.", pt: "O valor contestado fica retido enquanto o banco decide.", es: "El importe disputado queda retenido mientras el banco decide." }, VIEW_WALLET),
  dispute_won: withBody(
    { en: () => "You won a dispute", pt: () => "Ganhaste uma contestação", es: () => "Ganaste una disputa" },
    { en: "The bank sided with you: the disputed amount is back in your wallet.", pt: "O banco deu-te razão: o valor contestado voltou à tua carteira.", es: "El banco te dio la razón: el importe disputado volvió a tu cartera." }, VIEW_WALLET),
  dispute_lost: withBody(
    { en: () => "You lost a dispute", pt: () => "Perdeste uma contestação", es: () => "Perdiste una disputa" },
    { en: "The bank sided with the guest: the disputed amount stays deducted from your wallet.", pt: "O banco deu razão ao convidado: o valor contestado continua descontado da tua carteira.", es: "El banco dio la razón al invitado: el importe disputado sigue descontado de tu cartera." }, VIEW_WALLET),
  payment_unmatched: forOperators,
  payment_command_dead: forOperators,
  refund_request_unpaid: forOperators,
  refund_unmatched: forOperators,
  refund_needs_attention: forOperators,
  dispute_closed: forOperators,
  dispute_appeal_opened: forOperators,
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
 * An instant in a zone, in the reader's locale (the full tag, so en-GB reads
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

/**
 * Minor units of an ISO currency, for the reader ("€15.00", "15,00 €", "¥1,500"): the
 * currency's own decimals decide how minor units scale (JPY has none).
 */
export function formatMoney(minorUnits: number, currency: string, locale: string): string {
  try {
    const format = new Intl.NumberFormat(locale, { style: "currency", currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(minorUnits / 10 ** digits);
  } catch {
    return `${minorUnits} ${currency}`;
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
  const tag = formatLocale(delivery.locale, locale);
  const event = delivery.event;
  const cents = delivery.data.amount_cents;
  const currency = str(delivery.data.currency);
  const zone = str(delivery.data.timezone) ?? delivery.timezone ?? event?.timezone ?? "UTC";
  return {
    locale,
    formatLocale: tag,
    name: delivery.display_name ?? "",
    title: delivery.title,
    body: delivery.body,
    data: delivery.data,
    timeZone: zone,
    amount: typeof cents === "number" && currency !== null ? formatMoney(cents, currency, tag) : null,
    event: event === null ? null : {
      title: event.title,
      when: formatEventTime(event.starts_at, event.timezone, tag),
      where: [event.venue_name, event.city].filter((part): part is string => part !== null && part !== "").join(", ") || null,
      startsAt: event.starts_at,
      timeZone: event.timezone,
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

const detailOf = (copy: Copy): string | null => (copy.detail !== undefined && copy.detail !== null && copy.detail !== "" ? copy.detail : null);

export function renderEmail(delivery: ClaimedDelivery, appUrl: string): EmailContent {
  const { copy, locale } = copyFor(delivery);
  const url = actionUrl(appUrl, delivery.data);
  const settingsUrl = `${appUrl.replace(/\/+$/, "")}/settings/notifications`;
  const greeting = GREETING[locale](delivery.display_name ?? "");
  const detail = detailOf(copy);
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

/**
 * SMS / free-form WhatsApp: one short message (subject, the detail line — or the intro when there
 * is none, so a change notice says what changed —, the link), at most 320 characters.
 */
export function renderText(delivery: ClaimedDelivery, appUrl: string): string {
  const { copy } = copyFor(delivery);
  const url = actionUrl(appUrl, delivery.data);
  const head = `Rally: ${copy.subject} — ${detailOf(copy) ?? copy.intro}`;
  const room = 320 - url.length - 1;
  return `${head.length > room ? `${head.slice(0, Math.max(0, room - 1))}…` : head} ${url}`;
}

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * A push: the subject as title, the intro as body (lock screens show about two lines), the
 * link and ids as data, one collapse key per conversation (a newer message replaces the older
 * one on the device), and the unread count as the badge.
 */
export function renderPush(delivery: ClaimedDelivery, appUrl: string): PushContent {
  const { copy } = copyFor(delivery);
  const data: Record<string, string> = { type: delivery.type, url: actionUrl(appUrl, delivery.data) };
  for (const key of ["conversation_id", "event_id", "booking_id", "message_id", "announcement_id"]) {
    const value = str(delivery.data[key]);
    if (value !== null) data[key] = value;
  }
  const conversation = str(delivery.data.conversation_id);
  return {
    title: clip(copy.subject, 120),
    body: clip(copy.intro, 240),
    data,
    collapseKey: conversation === null ? null : `conversation:${conversation}`,
    badge: delivery.badge,
  };
}

/**
 * The values an approved WhatsApp template's placeholders may take (private.whatsapp_templates
 * names them in order). WhatsApp refuses empty values, new lines and tabs in them.
 */
export const WHATSAPP_VARIABLES = ["name", "subject", "detail", "event_title", "event_time", "event_place", "amount", "link"] as const;
export type WhatsAppVariable = (typeof WHATSAPP_VARIABLES)[number];

export function whatsappVariableValue(name: string, delivery: ClaimedDelivery, appUrl: string): string {
  const context = templateContext(delivery);
  const { copy } = copyFor(delivery);
  const values: Record<WhatsAppVariable, string | null> = {
    name: context.name,
    subject: copy.subject,
    detail: detailOf(copy) ?? copy.intro,
    event_title: context.event?.title ?? null,
    event_time: context.event?.when ?? null,
    event_place: context.event?.where ?? null,
    amount: context.amount,
    link: actionUrl(appUrl, delivery.data),
  };
  const value = (values as Record<string, string | null | undefined>)[name];
  const clean = (value ?? "").replace(/\s+/g, " ").trim();
  return clean === "" ? "—" : clip(clean, 1000);
}

/** WhatsApp outside the 24-hour window: the template and its ContentVariables; null inside it. */
export function renderWhatsAppTemplate(delivery: ClaimedDelivery, appUrl: string): WhatsAppTemplate | null {
  if (delivery.whatsapp_content_sid === null) return null;
  const variables: Record<string, string> = {};
  (delivery.whatsapp_variables ?? []).forEach((name, index) => {
    variables[String(index + 1)] = whatsappVariableValue(name, delivery, appUrl);
  });
  return { contentSid: delivery.whatsapp_content_sid, variables };
}
