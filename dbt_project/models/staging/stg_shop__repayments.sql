{#- Instalment repayments, one row per repayment_id (the latest version: a late payment re-sends it). -#}
with

source as (

    select * from {{ landed_source('shop', 'repayments') }}

),

renamed as (

    select
        {{ clean_text('repayment_id') }} as repayment_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,
        cast(instalment_number as {{ dbt.type_int() }}) as instalment_number,
        due_date,
        amount,
        paid_at as paid_at_utc,
        {{ utc_to_business_time('paid_at') }} as paid_at,
        _loaded_at,
        _file_id,
        _line

    from source

),

versioned as (

    select
        *,
        {{ latest_version_rank(['repayment_id']) }} as version_rank

    from renamed

)

select
    repayment_id,
    order_id,
    customer_id,
    instalment_number,
    due_date,
    amount,
    paid_at_utc,
    paid_at,
    cast(paid_at as date) as paid_date

from versioned
where version_rank = 1
