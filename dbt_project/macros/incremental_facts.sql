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
