module dagger/cloudstack-templates

go 1.24.0

require github.com/cloudstack-templates/cloudstack-templates v0.0.0

replace github.com/cloudstack-templates/cloudstack-templates => ../
