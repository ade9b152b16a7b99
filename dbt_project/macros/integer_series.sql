{% macro integer_series(upper_bound) -%}
    {#-
      Portable `select n` for n = 0..upper_bound (a static bound), built from cross-joined digits:
      no recursive CTE or generate_series, so it runs on DuckDB and Spark alike.
    -#}
    {%- set digit_count = (upper_bound | string | length) -%}
    select
        {% for position in range(digit_count) -%}
        digits_{{ position }}.digit * {{ 10 ** position }}{{ ' + ' if not loop.last }}
        {%- endfor %} as n
    from
        {% for position in range(digit_count) -%}
        (
            {% for digit in range(10) -%}
            select {{ digit }} as digit{{ ' union all ' if not loop.last }}
            {%- endfor %}
        ) as digits_{{ position }}{{ ',' if not loop.last }}
        {% endfor %}
    where
        {% for position in range(digit_count) -%}
        digits_{{ position }}.digit * {{ 10 ** position }}{{ ' + ' if not loop.last }}
        {%- endfor %} <= {{ upper_bound }}
{%- endmacro %}
