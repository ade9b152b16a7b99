{#- Consent changes, one row per (customer, data type, change instant), in business local time. -#}
with

source as (

    select * from {{ landed_source('shop', 'consents') }}

),

renamed as (

    select
        {{ clean_text('customer_id') }} as customer_id,
        {{ vocabulary_value('data_type') }} as data_type,
        {{ vocabulary_value('status') }} as status,
        changed_at as changed_at_utc,
        {{ utc_to_business_time('changed_at') }} as changed_at,
        _loaded_at,
        _file_id,
        _line

    from source

),

versioned as (

    select
        *,
        {{ latest_version_rank(['customer_id', 'data_type', 'changed_at_utc']) }} as version_rank

    from renamed

)

select
    customer_id,
    data_type,
    status,
    changed_at_utc,
    changed_at,
    cast(changed_at as date) as changed_date

from versioned
where version_rank = 1
