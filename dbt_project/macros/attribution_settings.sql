{#- The attribution vars (dbt_project.yml), validated: a bad value fails the model naming the var. -#}

{% macro attribution_conversion_type() -%}
    {#- 'all_orders' (every order of int_orders_filtered converts) or 'first_orders' (a customer's first only). -#}
    {%- set value = var('attribution_conversion_type', 'all_orders') | string | trim -%}
    {%- if value not in ['all_orders', 'first_orders'] -%}
        {{ exceptions.raise_compiler_error(
            "var 'attribution_conversion_type' must be all_orders or first_orders, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro attribution_touch_types() -%}
    {#- The touch types that form journeys, as a SQL list: ('click') by default, ('click', 'impression'). -#}
    {%- set value = var('attribution_touch_types', ['click']) -%}
    {%- set types = [value] if value is string else value | list -%}
    {%- if not types or types | reject('in', ['click', 'impression']) | list -%}
        {{ exceptions.raise_compiler_error(
            "var 'attribution_touch_types' must list click and/or impression, got '" ~ value ~ "'") }}
    {%- endif -%}
    ({%- for touch_type in types -%}'{{ touch_type }}'{{ ', ' if not loop.last }}{%- endfor -%})
{%- endmacro %}

{% macro attribution_half_life_days() -%}
    {#- Half-life of time_decay, in days: a positive number. -#}
    {%- set value = var('attribution_half_life_days', 7) | string | trim -%}
    {%- if not modules.re.match('^[0-9]+([.][0-9]+)?$', value) or value | float <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "var 'attribution_half_life_days' must be a positive number of days, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | float) }}
{%- endmacro %}

{% macro attribution_model_names() -%}
    {#- The attribution models (var attribution_models), in the order the marts and the report list them. -#}
    {%- set value = var('attribution_models') -%}
    {%- set names = [] if value is string else value | list -%}
    {%- set invalid = [] -%}
    {%- for name in names if name is not string or not modules.re.match('^[a-z][a-z0-9_]*$', name) -%}
        {%- do invalid.append(name) -%}
    {%- endfor -%}
    {%- if not names or invalid -%}
        {{ exceptions.raise_compiler_error(
            "var 'attribution_models' must list model names (lower case, no spaces), got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{% macro attribution_models_relation() -%}
    {#- One row per attribution model, column model. -#}
    {% for name in attribution_model_names() -%}
    select '{{ name }}' as model{{ ' union all' if not loop.last }}
    {% endfor %}
{%- endmacro %}
