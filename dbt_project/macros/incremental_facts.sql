{#-
  Incremental fact models (stg_shop__events, __orders, __order_items, __touchpoints).

  A first build, or `dbt build --full-refresh`, reads every raw row. A later build re-derives only the
  primary keys that changed: a key is re-derived when any of its raw rows
    - was loaded after the newest row already built (`_loaded_at` watermark), however old its business
      date: a late row is never lost; or
    - falls in the late-arrival window: its business date is at most var `late_arrival_days` days
      before the as-of date (compared in UTC with one extra day, so the window covers every time zone).
  All raw versions of those keys are re-ranked, so the result equals a full refresh's. The model is
  then merged on its key (delete+insert on DuckDB, merge on Spark/Delta).
-#}

{% macro fact_incremental_strategy() -%}
    {{ return(adapter.dispatch('fact_incremental_strategy', 'ecom')()) }}
{%- endmacro %}

{% macro default__fact_incremental_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro duckdb__fact_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro changed_since_last_build(occurred_at_utc=none) -%}
    {#- SQL condition on a raw row: loaded after this model's watermark, or inside the late-arrival window. -#}
    {#- coalesce: a model built while its raw table had not landed is empty, and then every row is new -#}
    _loaded_at > (select coalesce(max(_loaded_at), cast('1900-01-01' as timestamp)) from {{ this }})
    {%- if occurred_at_utc is not none %}
    or {{ occurred_at_utc }} >= {{ dbt.dateadd(
        'day', -1 - ecom.int_var('late_arrival_days'), 'cast(' ~ ecom.as_of_date() ~ ' as timestamp)') }}
    {%- endif %}
{%- endmacro %}

{% macro incremental_fact_config(key) -%}
    {#- The config of an incremental fact model merged on its primary key `key`. -#}
    {{ config(
        materialized='incremental',
        unique_key=key,
        incremental_strategy=ecom.fact_incremental_strategy(),
        on_schema_change='fail',
    ) }}
{%- endmacro %}

{% macro latest_versions(key, occurred_at_utc=none, maps_vocabulary=true) -%}
    {#-
      The CTEs changed_keys (incremental builds only) and versioned: the rows of CTE `renamed` with
      version_rank (1 = the version to keep per `key`, latest_version_rank), on an incremental build only
      the keys changed since the last build (changed_since_last_build on `occurred_at_utc`, or every key
      when the vocabulary the model maps with has changed). The model selects `where version_rank = 1`.
    -#}
{% if is_incremental() %}

changed_keys as (

    {#- incremental build: the keys with a row loaded since the last build or in the late-arrival window -#}
    select distinct {{ key }}

    from renamed
    where {{ ecom.changed_since_last_build(occurred_at_utc) }}
    {%- if maps_vocabulary %}
        or {{ ecom.vocabulary_changed_since_last_build() }}
    {%- endif %}

),

{% endif %}

versioned as (

    select
        *,
        {{ ecom.latest_version_rank([key]) }} as version_rank

    from renamed
    {% if is_incremental() %}
    where {{ key }} in (select {{ key }} from changed_keys)
    {% endif %}

)
{%- endmacro %}
