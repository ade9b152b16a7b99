{#- Customers, one row per customer_id. Personal columns (name, phone, email, address) stay in raw. -#}
with

source as (

    select * from {{ landed_source('shop', 'customers') }}

),

renamed as (

    select
        {{ clean_text('customer_id') }} as customer_id,
        signup_at as signup_at_utc,
        {{ utc_to_business_time('signup_at') }} as signup_at,
        {{ vocabulary_value('gender') }} as gender,
        birth_date,
        {{ clean_text('city') }} as city,
        cast(city_tier as {{ dbt.type_int() }}) as city_tier,
        {{ clean_text('province') }} as province,
        {{ vocabulary_value('acquisition_channel') }} as acquisition_channel,
        _loaded_at,
        _file_id,
        _line

    from source

),

versioned as (

    select
        *,
        {{ latest_version_rank(['customer_id']) }} as version_rank

    from renamed

)

select
    customer_id,
    signup_at_utc,
    signup_at,
    cast(signup_at as date) as signup_date,
    gender,
    birth_date,
    city,
    city_tier,
    province,
    acquisition_channel

from versioned
where version_rank = 1
