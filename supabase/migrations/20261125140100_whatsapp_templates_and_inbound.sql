-- WhatsApp by the rules of WhatsApp (issue 14): approved templates for business-initiated
-- messages, and the 24-hour customer-service window opened by the user's own messages.
--
-- Every Rally alert is business-initiated. WhatsApp accepts free-form text from a business only
-- within 24 hours of the user's last message to it (the customer-service window); outside it,
-- only a template the business had approved by WhatsApp, sent through Twilio's Content API as
-- `ContentSid` plus `ContentVariables`. Twilio fails anything else with error 63016.
--
--   * private.whatsapp_templates: the registry of approved templates, one per notification type
--     and locale (en, pt, es): the Content SID (HX…) Twilio gave the template and the variables
--     its placeholders {{1}}, {{2}}, … take, in order, from a fixed vocabulary the dispatcher
--     knows how to fill (docs/social-and-alerts.md lists them with the suggested template text
--     for each type). Operators fill it from their Twilio Content Template Builder with
--     admin.set_whatsapp_template once WhatsApp approves a template; admin.whatsapp_templates
--     shows which types still lack one.
--   * private.twilio_inbound_messages: messages users send to Rally's numbers, recorded by the
--     twilio-inbound edge function from Twilio's signed incoming-message webhook. A WhatsApp
--     message opens (or renews) that number's 24-hour window; "STOP" (or UNSUBSCRIBE, CANCEL,
--     QUIT, END) withdraws the WhatsApp opt-in of every account with that verified number.
--
-- The dispatcher's claim (20261125140200_alert_outbox) decides per WhatsApp alert: free-form
-- text inside the window; outside it, the type's template in the recipient's language (English
-- when that language has none); with neither, the alert falls back to SMS or is skipped, as the
-- recipient chose (notification_settings.whatsapp_fallback), and the delivery says why.

create table private.whatsapp_templates (
  type text not null references private.notification_types (type) on delete cascade,
  locale text not null,
  content_sid text not null,
  variables text[] not null default '{}',
  updated_at timestamptz not null default now(),
  primary key (type, locale),
  constraint whatsapp_templates_locale check (locale in ('en', 'pt', 'es')),
  constraint whatsapp_templates_content_sid check (content_sid ~ '^HX[0-9a-f]{32}$'),
  constraint whatsapp_templates_variables check (
    cardinality(variables) <= 10 and array_position(variables, null) is null
    and variables <@ array['name', 'subject', 'detail', 'event_title', 'event_time', 'event_place', 'amount', 'link']::text[])
);
comment on table private.whatsapp_templates is
  'Approved WhatsApp templates per notification type and locale: the Twilio Content SID (HX…) and, in placeholder order ({{1}}, {{2}}, …), the variables the dispatcher fills. Set with admin.set_whatsapp_template; see admin.whatsapp_templates.';
comment on column private.whatsapp_templates.variables is
  'Placeholder values in order, from: name (the recipient''s display name), subject (the alert''s headline), detail (its detail line), event_title, event_time (in the reader''s locale), event_place, amount (formatted money), link (where the alert leads in the app).';

create table private.twilio_inbound_messages (
  message_sid text primary key,
  channel text not null,
  from_e164 text not null,
  to_address text not null,
  body text,
  received_at timestamptz not null default now(),
  constraint twilio_inbound_messages_sid check (message_sid ~ '^[A-Z]{2}[0-9a-f]{32}$'),
  constraint twilio_inbound_messages_channel check (channel in ('whatsapp', 'sms')),
  constraint twilio_inbound_messages_from check (from_e164 ~ '^\+[1-9][0-9]{6,14}$')
);
comment on table private.twilio_inbound_messages is
  'Messages users sent to Rally''s Twilio numbers (SMS and WhatsApp), from the signed incoming-message webhook, stored once per MessageSid and kept 30 days. A WhatsApp message opens that number''s 24-hour customer-service window.';
create index twilio_inbound_messages_window_idx on private.twilio_inbound_messages (from_e164, received_at desc)
  where channel = 'whatsapp';
create index twilio_inbound_messages_received_idx on private.twilio_inbound_messages (received_at);

-- Whether Rally may send free-form WhatsApp text to p_phone at p_at: the number wrote to Rally
-- on WhatsApp in the 24 hours before.
create or replace function private.whatsapp_window_open(p_phone text, p_at timestamptz default now()) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from private.twilio_inbound_messages m
                  where m.channel = 'whatsapp' and m.from_e164 = p_phone
                    and m.received_at > p_at - interval '24 hours' and m.received_at <= p_at)
$$;
comment on function private.whatsapp_window_open(text, timestamptz) is
  'True when p_phone sent Rally a WhatsApp message in the 24 hours before p_at (the customer-service window: free-form text is allowed).';

-- The approved template for a type in the reader's language, or in English.
create or replace function private.whatsapp_template_for(p_type text, p_locale text)
returns private.whatsapp_templates
language sql
stable
security definer
set search_path = ''
as $$
  select t.* from private.whatsapp_templates t
   where t.type = p_type and t.locale in (lower(split_part(coalesce(p_locale, 'en'), '-', 1)), 'en')
   order by t.locale = 'en'
   limit 1
$$;
comment on function private.whatsapp_template_for(text, text) is
  'The approved WhatsApp template of p_type in the language of p_locale (pt-BR → pt), else in English; null when there is none.';

-- The twilio-inbound function (service role), after checking Twilio's signature.
create or replace function private.record_inbound_message(
  p_message_sid text, p_channel text, p_from text, p_to text, p_body text
) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  if p_message_sid is null or p_message_sid !~ '^[A-Z]{2}[0-9a-f]{32}$' then
    perform private.raise_error('22023', 'invalid_message_sid', 'p_message_sid is Twilio''s MessageSid (two letters and 32 hex digits).');
  end if;
  if p_channel is null or p_channel not in ('whatsapp', 'sms') then
    perform private.raise_error('22023', 'invalid_channel', 'p_channel is whatsapp or sms.');
  end if;
  if p_from is null or p_from !~ '^\+[1-9][0-9]{6,14}$' then
    perform private.raise_error('22023', 'invalid_phone', 'p_from is the sender in E.164.');
  end if;
  insert into private.twilio_inbound_messages (message_sid, channel, from_e164, to_address, body)
  values (p_message_sid, p_channel, p_from, left(coalesce(p_to, ''), 64), left(p_body, 1600))
  on conflict (message_sid) do nothing;
  if not found then
    return 'duplicate';
  end if;
  -- WhatsApp leaves opt-out to the business: the keywords people send to stop messages.
  if p_channel = 'whatsapp' and upper(btrim(coalesce(p_body, ''))) in ('STOP', 'UNSUBSCRIBE', 'CANCEL', 'QUIT', 'END', 'STOPALL') then
    update public.notification_settings s set whatsapp_opt_in_at = null, updated_at = now()
     where s.phone_e164 = p_from and s.whatsapp_opt_in_at is not null;
    get diagnostics v_count = row_count;
    return case when v_count > 0 then 'opted_out' else 'recorded' end;
  end if;
  return 'recorded';
end
$$;
comment on function private.record_inbound_message(text, text, text, text, text) is
  'twilio-inbound: stores a user''s message to Rally once per MessageSid (duplicate → ''duplicate''); a WhatsApp message opens the number''s 24-hour window, and STOP (UNSUBSCRIBE, CANCEL, QUIT, END) withdraws the WhatsApp opt-in of the accounts with that number (''opted_out'').';

-- Operators (Studio): register the Content SID WhatsApp approved for a type and language.
create or replace function admin.set_whatsapp_template(p_type text, p_locale text, p_content_sid text, p_variables text[])
returns private.whatsapp_templates
language plpgsql
set search_path = ''
as $$
declare
  v_row private.whatsapp_templates;
begin
  if not exists (select 1 from private.notification_types t where t.type = p_type) then
    perform private.raise_error('22023', 'unknown_notification_type', format('"%s" is not a notification type.', p_type));
  end if;
  insert into private.whatsapp_templates as t (type, locale, content_sid, variables)
  values (p_type, p_locale, p_content_sid, coalesce(p_variables, '{}'))
  on conflict (type, locale) do update
     set content_sid = excluded.content_sid, variables = excluded.variables, updated_at = now()
  returning * into v_row;
  return v_row;
end
$$;
comment on function admin.set_whatsapp_template(text, text, text, text[]) is
  'Operators: the approved WhatsApp template for a notification type and locale (en, pt, es): its Content SID (HX…) and the variables of its placeholders in order, e.g. select admin.set_whatsapp_template(''event_cancelled'', ''pt'', ''HX…'', array[''event_title'', ''event_time'', ''link'']).';

create or replace function admin.remove_whatsapp_template(p_type text, p_locale text) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  delete from private.whatsapp_templates where type = p_type and locale = p_locale;
  return found;
end
$$;
comment on function admin.remove_whatsapp_template(text, text) is
  'Operators: stop using a WhatsApp template (withdrawn or paused by WhatsApp); alerts of that type then fall back outside the 24-hour window.';

create view admin.whatsapp_templates with (security_invoker = true) as
select t.type, t.category, t.whatsapp as whatsapp_by_default, l.locale, w.content_sid, w.variables, w.updated_at
  from private.notification_types t
 cross join (values ('en'), ('pt'), ('es')) l(locale)
  left join private.whatsapp_templates w on w.type = t.type and w.locale = l.locale
 order by t.type, l.locale;
comment on view admin.whatsapp_templates is
  'Every notification type × locale with its approved WhatsApp template, if any (content_sid null: outside the 24-hour window such alerts fall back to SMS or are skipped).';
revoke all on admin.whatsapp_templates from public, anon, authenticated, service_role;

revoke execute on function private.whatsapp_window_open(text, timestamptz), private.whatsapp_template_for(text, text),
  private.record_inbound_message(text, text, text, text, text), admin.set_whatsapp_template(text, text, text, text[]),
  admin.remove_whatsapp_template(text, text)
  from public;
grant execute on function private.record_inbound_message(text, text, text, text, text),
  private.whatsapp_window_open(text, timestamptz) to service_role;
