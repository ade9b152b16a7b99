{#- Small building blocks of the portrait's tag definitions (models/marts/portrait). -#}

{% macro age_years(birth_date) -%}
    {#- Age in whole years at the as-of date: days since the birth date / 365.25, rounded down. -#}
    floor({{ dbt.datediff(birth_date, as_of_date(), 'day') }} / 365.25)
{%- endmacro %}

{% macro customer_age_days() -%}
    {#- Days a customer has been with the shop at the as-of date: from signup, else from the first order. -#}
    {{ dbt.datediff('coalesce(portrait.signup_date, portrait.first_order_date)', as_of_date(), 'day') }}
{%- endmacro %}
