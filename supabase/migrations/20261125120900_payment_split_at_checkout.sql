-- Payments, step 10: a payment knows its split (platform fee, host share) from checkout on.
--
-- Stripe does not promise event order: a dispute (or its funds_withdrawn) can arrive before the
-- payment_intent.succeeded it belongs to. The dispute then needs the host's share of the
-- payment to take the right amount from the host. The split depends only on the amount and the
-- fee rate fixed at checkout, so it is filled in when the payment row is written (and computed
-- again from Stripe's amount_received when the payment succeeds, as before).

create or replace function private.fill_payment_split() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.platform_fee_cents is null then
    new.platform_fee_cents := private.platform_fee_for(new.amount_cents, new.platform_fee_bps);
    new.host_share_cents := new.amount_cents - new.platform_fee_cents;
  end if;
  return new;
end
$$;
comment on function private.fill_payment_split() is 'Trigger: a new payment gets its platform fee and host share from its amount and the fee rate fixed at checkout.';

create trigger payments_fill_split before insert on private.payments
  for each row execute function private.fill_payment_split();

update private.payments
   set platform_fee_cents = private.platform_fee_for(amount_cents, platform_fee_bps),
       host_share_cents = amount_cents - private.platform_fee_for(amount_cents, platform_fee_bps)
 where platform_fee_cents is null;
