{#-
  Rows where `column_name` is below `other_column` of the same row (with strict=true: not above it).
  Rows where either is null are not judged.
-#}
{% test not_below_column(model, column_name, other_column, strict=false) %}

select *
from {{ model }}
where {{ column_name }} {{ '<=' if strict else '<' }} {{ other_column }}

{% endtest %}
