{#- The cohort marts' grains and cuts (vars cohort_grains, cohort_dimensions), validated. -#}

{% macro cohort_grains() -%}
    {#- Period lengths of cohort_retention: a list drawn from month, week (ISO week, Monday start). -#}
    {{ return(ecom.validated_list_var('cohort_grains', ['month', 'week'], allow_empty=false)) }}
{%- endmacro %}

{% macro cohort_dimensions() -%}
    {#- Columns of int_customer_first_orders_enriched that cohorts are cut by, besides the overall 'all' (may be none). -#}
    {{ return(ecom.validated_list_var(
        'cohort_dimensions',
        ['acquisition_channel', 'first_order_category', 'city_tier', 'first_order_coupon'],
        allow_empty=true)) }}
{%- endmacro %}

{% macro grain_period_limit(grain) -%}
    {#- The largest period_index a cohort spine reaches: 100 years of periods (a singular test checks). -#}
    {{ return({'month': 1199, 'week': 5217}[grain]) }}
{%- endmacro %}

{% macro validated_list_var(name, allowed, allow_empty) -%}
    {#- A var that must be a list of distinct values drawn from `allowed` (a single value is a list of one). -#}
    {%- set value = var(name) or [] -%}
    {%- if value is string -%}
        {%- set value = [value] -%}
    {%- endif -%}
    {%- set unknown = value | reject('in', allowed) | list -%}
    {%- if (not value and not allow_empty) or unknown or (value | unique | list | length) != (value | length) -%}
        {{ exceptions.raise_compiler_error(
            "var '" ~ name ~ "' must be a list of distinct values drawn from " ~ (allowed | join(', '))
            ~ ("" if allow_empty else " (at least one)") ~ ", got [" ~ (value | join(', ')) ~ "]") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro cohort_start(grain, day) -%}
    {#- First day of the period holding `day`: the 1st of the month, or the Monday of the ISO week. -#}
    cast({{ dbt.date_trunc(grain, day) }} as date)
{%- endmacro %}

{% macro cohort_members(first_orders) -%}
    {#-
      `select customer_id, cohort_grain, cohort_dimension, cohort_value, cohort_start` from a relation
      shaped like int_customer_first_orders_enriched: every customer once per grain in the overall cohort
      (dimension and value 'all') and once per cut, in the period of the first order.
    -#}
    {%- set cuts = [('all', "'all'")] -%}
    {%- for dimension in ecom.cohort_dimensions() -%}
        {%- do cuts.append((dimension, dimension)) -%}
    {%- endfor -%}
    {%- for grain in ecom.cohort_grains() -%}
    {%- set grain_loop = loop -%}
    {%- for dimension, value_expression in cuts %}
    select
        customer_id,
        cast('{{ grain }}' as {{ dbt.type_string() }}) as cohort_grain,
        cast('{{ dimension }}' as {{ dbt.type_string() }}) as cohort_dimension,
        cast({{ value_expression }} as {{ dbt.type_string() }}) as cohort_value,
        {{ ecom.cohort_start(grain, 'first_order_date') }} as cohort_start
    from {{ first_orders }}
    {{ 'union all' if not (loop.last and grain_loop.last) }}
    {%- endfor -%}
    {%- endfor %}
{%- endmacro %}
