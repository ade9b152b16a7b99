{#- Small building blocks of the portrait's tag definitions (models/marts/portrait). -#}

{% macro age_years(birth_date) -%}
    {#- Age in whole years at the as-of date: days since the birth date / 365.25, rounded down. -#}
    floor({{ dbt.datediff(birth_date, as_of_date(), 'day') }} / 365.25)
{%- endmacro %}

{% macro customer_age_days() -%}
    {#- Days a customer has been with the shop at the as-of date: from signup, else from the first order. -#}
    {{ dbt.datediff('coalesce(portrait.signup_date, portrait.first_order_date)', as_of_date(), 'day') }}
{%- endmacro %}

{% macro customer_top_value(rows, column, ranked_by='count(*)') -%}
    {#-
      `select customer_id, <column>`: each customer's top non-null value of `column` in `rows`, the one
      with the largest `ranked_by` (by default the most rows); ties go to the smallest value.
    -#}
    select customer_id, {{ column }}
    from (
        select
            customer_id,
            {{ column }},
            row_number() over (
                partition by customer_id order by {{ ranked_by }} desc, {{ column }}
            ) as choice_rank
        from {{ rows }}
        where {{ column }} is not null
        group by customer_id, {{ column }}
    ) as ranked
    where choice_rank = 1
{%- endmacro %}

{% macro has_rows(relation) -%}
    {#- An optional table with no rows at all has not landed: its metrics are null, not zero. -#}
    ((select count(*) from {{ relation }}) > 0)
{%- endmacro %}
