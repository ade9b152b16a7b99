{#- The run's settings (vars), validated: a bad value fails the model with a message naming the var. -#}

{% macro as_of_date() -%}
    {#- The as-of date as a SQL date literal. Only checked at execution: `dbt parse` needs no date. -#}
    {%- set value = var('as_of_date', '') | string | trim -%}
    {%- if execute -%}
        {%- if value == '' -%}
            {{ exceptions.raise_compiler_error(
                "var 'as_of_date' is empty: pass --vars '{as_of_date: YYYY-MM-DD}' or set ECOM_AS_OF") }}
        {%- endif -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value) -%}
            {{ exceptions.raise_compiler_error(
                "var 'as_of_date' must be a date YYYY-MM-DD, got '" ~ value ~ "'") }}
        {%- endif -%}
    {%- else -%}
        {%- set value = '1970-01-01' -%}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{% macro business_tz() -%}
    {#- The business time zone name (IANA), checked so it can be quoted into SQL safely. -#}
    {%- set value = var('business_tz', 'Asia/Shanghai') | string | trim -%}
    {%- if not modules.re.match('^[A-Za-z][A-Za-z0-9_+/-]*$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var 'business_tz' must be an IANA time zone name such as Asia/Shanghai, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro int_var(name) -%}
    {#- A var that must be a non-negative whole number (day counts, thresholds). -#}
    {%- set value = var(name) | string | trim -%}
    {%- if not modules.re.match('^[0-9]+$', value) -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a non-negative whole number, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}
