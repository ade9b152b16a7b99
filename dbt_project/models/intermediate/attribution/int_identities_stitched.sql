{#-
  Identity stitching: each anonymous_id that has been seen signed in (a clickstream event or a
  touchpoint carrying both anonymous_id and customer_id) on or before the as-of date, with the
  customer it belongs to. A sighting at any time up to the as-of date counts, also one after the
  anonymous touches it stitches: a visitor who browses anonymously and signs in later is the same
  person all along. A device seen signed in as several customers belongs to the first of them
  (earliest sighting, then smallest customer_id).
-#}
with

events as (

    select * from {{ ref('stg_shop__events') }}

),

touchpoints as (

    select * from {{ ref('stg_shop__touchpoints') }}

),

sightings as (

    select
        anonymous_id,
        customer_id,
        occurred_at_utc as seen_at_utc
    from events
    where anonymous_id is not null
        and customer_id is not null
        and event_date <= {{ as_of_date() }}

    union all

    select
        anonymous_id,
        customer_id,
        occurred_at_utc as seen_at_utc
    from touchpoints
    where anonymous_id is not null
        and customer_id is not null
        and touch_date <= {{ as_of_date() }}

),

ranked as (

    select
        anonymous_id,
        customer_id,
        seen_at_utc,
        row_number() over (
            partition by anonymous_id order by seen_at_utc, customer_id
        ) as sighting_rank

    from sightings

)

select
    anonymous_id,
    customer_id,
    seen_at_utc as first_signed_in_at_utc

from ranked
where sighting_rank = 1
