{#- Daily spend, one row per (spend_date, channel, campaign_id); campaign_id may be empty. -#}
with

source as (

    select * from {{ landed_source('shop', 'marketing_spend') }}

),

renamed as (

    select
        spend_date,
        lower({{ clean_text('channel') }}) as channel,
        {{ clean_text('campaign_id') }} as campaign_id,
        spend,
        _loaded_at,
        _file_id,
        _line

    from source

),

versioned as (

    select
        *,
        {{ latest_version_rank(['spend_date', 'channel', 'campaign_id']) }} as version_rank

    from renamed

)

select
    spend_date,
    channel,
    campaign_id,
    spend

from versioned
where version_rank = 1
