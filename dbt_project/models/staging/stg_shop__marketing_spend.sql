{#-
  Daily spend, one row per (spend_date, channel, campaign_id); campaign_id may be empty. channel is the
  vocabulary group: spend of raw channels the seed maps to one group is added up (each raw key keeps
  its latest version first).
-#}
with

source as (

    select * from {{ landed_source('shop', 'marketing_spend') }}

),

renamed as (

    select
        spend_date,
        {{ vocabulary_key('source.channel') }} as channel_key,
        {{ vocabulary_value('channel') }} as channel,
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
        {{ latest_version_rank(['spend_date', 'channel_key', 'campaign_id']) }} as version_rank

    from renamed

)

select
    spend_date,
    channel,
    campaign_id,
    cast(sum(spend) as decimal(18, 2)) as spend

from versioned
where version_rank = 1
group by spend_date, channel, campaign_id
