{#-
  The CLV models fitted in the warehouse (int_clv_parameters_fitted): one row per model and parameter with
  the fit's diagnostics, including whether the data identify each parameter. No rows when there were
  too few customers to fit (var clv_min_customers).
-#}
with

parameters as (

    select * from {{ ref('int_clv_parameters_fitted') }}

)

select
    cast(model as {{ dbt.type_string() }}) as model,
    cast(parameter as {{ dbt.type_string() }}) as parameter,
    cast(value as double) as value,
    cast(customers_used as {{ dbt.type_bigint() }}) as customers_used,
    cast(log_likelihood as double) as log_likelihood,
    cast(converged as {{ dbt.type_boolean() }}) as converged,
    cast(identified as {{ dbt.type_boolean() }}) as identified,
    cast(not_identified_reason as {{ dbt.type_string() }}) as not_identified_reason,
    cast(as_of_date as date) as as_of_date

from parameters
where {{ required_sources_landed() }}
