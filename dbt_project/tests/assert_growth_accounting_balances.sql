{#-
  Growth accounting adds up: every active customer is new, retained or won back; every customer
  active the month before is retained or churned; and the month before's active count is the
  previous row's.
-#}
with

growth_accounting as (

    select * from {{ ref('growth_accounting') }}

),

with_previous as (

    select
        *,
        lag(active_customers, 1, 0) over (order by activity_month) as active_customers_of_previous_row

    from growth_accounting

)

-- a singular test returns its failing rows as they are
select *  -- noqa: AM04
from with_previous
where active_customers != new_customers + retained_customers + won_back_customers
    or previous_active_customers != retained_customers + churned_customers
    or previous_active_customers != active_customers_of_previous_row
