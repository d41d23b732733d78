{#- AWS reports metric tonnes (MTCO2e); the suite's common unit is kilograms. 1 t = 1000 kg. -#}
{% macro mtco2e_to_kgco2e(column) -%}
    ({{ column }} * 1000)
{%- endmacro %}
