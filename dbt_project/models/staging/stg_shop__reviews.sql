{#- Product reviews, one row per review_id, in business local time. -#}
with

source as (

    select * from {{ landed_source('shop', 'reviews') }}

),

renamed as (

    select
        {{ clean_text('review_id') }} as review_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('customer_id') }} as customer_id,
        cast(rating as {{ dbt.type_int() }}) as rating,
        {{ clean_text('review_text') }} as review_text,
        reviewed_at as reviewed_at_utc,
        {{ utc_to_business_time('reviewed_at') }} as reviewed_at,
        _loaded_at,
        _file_id,
        _line

    from source

),

versioned as (

    select
        *,
        {{ latest_version_rank(['review_id']) }} as version_rank

    from renamed

)

select
    review_id,
    order_id,
    product_id,
    customer_id,
    rating,
    review_text,
    reviewed_at_utc,
    reviewed_at,
    cast(reviewed_at as date) as review_date

from versioned
where version_rank = 1
