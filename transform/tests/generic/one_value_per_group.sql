{#- Fails for every group of `group_by` that holds more than one value of `column`: e.g. a
    billing period that still mixes two CUR deliveries. -#}
{% test one_value_per_group(model, group_by, column) %}
select {{ group_by | join(', ') }}, count(distinct {{ column }}) as distinct_values
from {{ model }}
group by {{ group_by | join(', ') }}
having count(distinct {{ column }}) > 1
{% endtest %}
