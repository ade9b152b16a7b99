{#-
  One row per customer with an order in int_orders_filtered: the instalments due on or before the
  as-of date A behind the portrait's credit tags. Overdue: due before A and paid after the due day,
  or still unpaid at A. No rows while repayments has not landed (no rows at all).
-#}
with

orders as (

    select * from {{ ref('int_orders_filtered') }}

),

repayments as (

    select * from {{ ref('stg_shop__repayments') }}

),

customers as (

    select distinct customer_id from orders

),

credit_summary as (

    select
        customer_id,
        count(*) as instalments_due,
        sum(
            case
                when paid_date is not null and paid_date <= {{ as_of_date() }} and paid_date <= due_date then 0
                when due_date < {{ as_of_date() }} then 1
                else 0
            end
        ) as overdue_instalments

    from repayments
    where due_date <= {{ as_of_date() }}
    group by customer_id

)

select
    customers.customer_id,
    coalesce(credit_summary.instalments_due, 0) as instalments_due,
    case
        when credit_summary.instalments_due > 0
            then cast(credit_summary.overdue_instalments as double) / credit_summary.instalments_due
    end as overdue_rate

from customers
left join credit_summary on customers.customer_id = credit_summary.customer_id
where {{ has_rows('repayments') }}
