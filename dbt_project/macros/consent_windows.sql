{% macro consented(rows, data_type, occurred_at, windows='consent_windows') -%}
    {#-
      SQL condition: the row of `rows` (a relation with customer_id) occurred (column `occurred_at`,
      UTC) outside every window in which its customer had withdrawn consent to `data_type`
      (int_customer_consents_windowed, imported as `windows`).
    -#}
    not exists (
        select 1 from {{ windows }}
        where {{ windows }}.customer_id = {{ rows }}.customer_id
            and {{ windows }}.data_type = '{{ data_type }}'
            and {{ rows }}.{{ occurred_at }} >= {{ windows }}.withdrawn_from
            and ({{ windows }}.withdrawn_until is null
                or {{ rows }}.{{ occurred_at }} < {{ windows }}.withdrawn_until)
    )
{%- endmacro %}
