{#-
  Converts a UTC timestamp (raw layer) to the wall-clock time of the business time zone
  (var business_tz). Dispatched so the models run on DuckDB now and on Spark later.
-#}
{% macro utc_to_business_time(utc_timestamp) -%}
    {{ return(adapter.dispatch('utc_to_business_time', 'ecom')(utc_timestamp)) }}
{%- endmacro %}

{% macro default__utc_to_business_time(utc_timestamp) -%}
    (({{ utc_timestamp }} at time zone 'UTC') at time zone '{{ ecom.business_tz() }}')
{%- endmacro %}

{% macro duckdb__utc_to_business_time(utc_timestamp) -%}
    {#- TIMESTAMP AT TIME ZONE 'UTC' reads the value as UTC (TIMESTAMPTZ); AT TIME ZONE tz gives local wall time. -#}
    cast(({{ utc_timestamp }} at time zone 'UTC') at time zone '{{ ecom.business_tz() }}' as timestamp)
{%- endmacro %}

{% macro spark__utc_to_business_time(utc_timestamp) -%}
    from_utc_timestamp({{ utc_timestamp }}, '{{ ecom.business_tz() }}')
{%- endmacro %}
