{#-
  The windows in which a customer had withdrawn consent to a data type: from each 'withdrawn'
  change (stg_shop__consents, changed on or before the as-of date) until the customer's next change
  of the same type (a 'granted' one), or open (withdrawn_until null) when it is the last. Every
  model that uses personal data of a consent-bound type reads it through this model (macro consented).
-#}
with

consents as (

    select * from {{ ref('stg_shop__consents') }}
    where changed_date <= {{ as_of_date() }}

),

changes as (

    select
        customer_id,
        data_type,
        status,
        changed_at_utc as withdrawn_from,
        lead(changed_at_utc) over (
            partition by customer_id, data_type order by changed_at_utc
        ) as withdrawn_until

    from consents

)

select
    customer_id,
    data_type,
    withdrawn_from,
    withdrawn_until

from changes
where status = 'withdrawn'
