{#- Social actions (shares, referrals, group buys), one row per activity_id, in business local time. -#}
with

source as (

    select * from {{ landed_source('shop', 'social_activities') }}

),

renamed as (

    select
        {{ clean_text('activity_id') }} as activity_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ vocabulary_value('activity_type') }} as activity_type,
        occurred_at as occurred_at_utc,
        {{ utc_to_business_time('occurred_at') }} as occurred_at,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('referred_customer_id') }} as referred_customer_id,
        {{ clean_text('group_buy_id') }} as group_buy_id,
        _loaded_at,
        _file_id,
        _line

    from source

),

versioned as (

    select
        *,
        {{ latest_version_rank(['activity_id']) }} as version_rank

    from renamed

)

select
    activity_id,
    customer_id,
    activity_type,
    occurred_at_utc,
    occurred_at,
    cast(occurred_at as date) as activity_date,
    product_id,
    referred_customer_id,
    group_buy_id

from versioned
where version_rank = 1
